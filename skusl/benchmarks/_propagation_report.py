def write_report(records, meta, out, scale=None):
    import json
    Path = __import__("pathlib").Path
    Path(out).with_suffix(".json").write_text(json.dumps({"meta": meta, "n": len(records)}))
    return out

"""The neighbors-auto benchmark's parsing and report (no search is run)."""

from skusl.benchmarks import _neighbors_auto as na


def test_chosen_reads_the_auto_log():
    log = ("[skusl] kNN graph: ivf (estimates: ivf ~42 s)\n"
           "[skusl] ivf search: 1000 cells, 16 probes, recall 0.997 on a sample\n"
           "[skusl] falling back to neighbors='approximate' (pynndescent)\n")
    assert na._chosen(log) == "ivf -> approximate (16 probes)"
    assert na._chosen("[skusl] kNN graph: exact (estimates: exact ~1 s)\n") == "exact"


def test_report_ratio_is_against_the_faster_of_exact_and_approximate():
    def run(seconds, chosen="x"):
        return {"seconds": seconds, "recall": None, "scaled": False, "load": "0 / 0 / 0",
                "chosen": chosen}

    rows = [{"n": 1000, "d": 8, "exact": run(10.0), "ivf": run(1.0),
             "approximate": run(20.0), "auto": run(13.0, "exact")}]
    text = na.report(rows, "cmd")
    assert "| 1.30 | 13.00 |" in text  # 13 / 10 against exact; 13 / 1 against ivf
    assert "Worst auto / faster: 1.30" in text

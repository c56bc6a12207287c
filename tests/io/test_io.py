"""skusl.io: embeddings in, indices / labels / splits out, annotations back."""

import json
import os

import numpy as np
import pytest

from skusl.io import (annotations_to_y, atomic_write, load_embeddings, load_indices,
                      load_ssl_split, read_annotations, save_indices, save_labels_csv,
                      save_ssl_split, save_usb_split)


# -- embeddings and indices (the CLI's contract) ------------------------------

def test_load_embeddings_formats(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "a.npy", X)
    np.savez(tmp_path / "b.npz", X=X, y=np.arange(4))
    np.savez(tmp_path / "c.npz", emb=X)
    np.savetxt(tmp_path / "d.csv", X, delimiter=",", header="f0,f1,f2", comments="")
    np.savetxt(tmp_path / "e.csv", X, delimiter=",")
    for name in ("a.npy", "b.npz", "c.npz", "d.csv", "e.csv"):
        np.testing.assert_allclose(load_embeddings(tmp_path / name), X)
    np.savez(tmp_path / "f.npz", a=X, b=X)
    with pytest.raises(ValueError, match="several arrays"):
        load_embeddings(tmp_path / "f.npz")
    np.testing.assert_allclose(load_embeddings(tmp_path / "f.npz", key="b"), X)
    (tmp_path / "x.bin").write_bytes(b"")
    with pytest.raises(ValueError, match="unsupported"):
        load_embeddings(tmp_path / "x.bin")
    with pytest.raises(FileNotFoundError):
        load_embeddings(tmp_path / "missing.npy")


@pytest.mark.parametrize("suffix", [".npy", ".json", ".txt", ".csv"])
def test_indices_round_trip(tmp_path, suffix):
    idx = np.array([5, 0, 17, 3])
    path = save_indices(idx, tmp_path / f"sub/idx{suffix}")
    got = load_indices(path)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, idx)
    # a single index still reads back as a 1-D array
    np.testing.assert_array_equal(load_indices(save_indices([9], path)), [9])


def test_save_indices_rejects_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="unsupported output format"):
        save_indices([1], tmp_path / "idx.xlsx")


def test_atomic_write_leaves_target_untouched_on_error(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.txt"]  # no temporary file left behind


# -- labels CSV and annotations ------------------------------------------------

def test_labels_csv_round_trip_ints(tmp_path):
    path = save_labels_csv(tmp_path / "labels.csv", [3, 1, 2], np.array([7, 7, 0]))
    assert path.read_text() == "index,label\n3,7\n1,7\n2,0\n"
    indices, labels = read_annotations(path)
    np.testing.assert_array_equal(indices, [3, 1, 2])
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [7, 7, 0])


def test_labels_csv_strings_with_commas_and_confidence(tmp_path):
    labels = ["cat", "dog, small", 'say "hi"']
    path = save_labels_csv(tmp_path / "l.csv", [0, 1, 2], labels, confidence=[1, 0.5, 1 / 3])
    lines = path.read_text().splitlines()
    assert lines[0] == "index,label,confidence"
    assert lines[3].endswith(",0.333333")
    indices, got = read_annotations(path)
    assert got.dtype == object
    assert list(got) == labels


def test_labels_csv_float_labels_that_are_integers(tmp_path):
    # propagated labels often arrive as floats (e.g. from label_distributions_)
    path = save_labels_csv(tmp_path / "l.csv", [0, 1], np.array([2.0, 5.0]))
    assert read_annotations(path)[1].tolist() == [2, 5]


def test_labels_csv_length_mismatch(tmp_path):
    with pytest.raises(ValueError, match="2 indices but 3 labels"):
        save_labels_csv(tmp_path / "l.csv", [0, 1], [1, 2, 3])
    with pytest.raises(ValueError, match="confidences"):
        save_labels_csv(tmp_path / "l.csv", [0, 1], [1, 2], confidence=[1.0])


def test_read_annotations_header_variants(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,cls,who\n4,b,x\n2,a,y\n")
    with pytest.raises(ValueError, match="no column 'index'"):
        read_annotations(path)
    indices, labels = read_annotations(path, index_column="id", label_column="cls")
    assert indices.tolist() == [4, 2] and labels.tolist() == ["b", "a"]
    # no header: first two columns; blank lines and empty labels skipped
    path.write_text("4,1\n\n2,\n9,0\n")
    indices, labels = read_annotations(path)
    assert indices.tolist() == [4, 9] and labels.tolist() == [1, 0]
    path.write_text("")
    indices, labels = read_annotations(path)
    assert indices.size == 0 and labels.size == 0


def test_read_annotations_duplicates(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("index,label\n1,0\n1,0\n2,1\n")
    indices, labels = read_annotations(path)
    assert indices.tolist() == [1, 2]
    path.write_text("index,label\n1,0\n1,1\n")
    with pytest.raises(ValueError, match="sample 1 is labeled both"):
        read_annotations(path)


def test_read_annotations_bad_rows(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("index,label\nx,1\n")
    with pytest.raises(ValueError, match="not an integer"):
        read_annotations(path)
    path.write_text("index,label\n-3,1\n")
    with pytest.raises(ValueError, match="negative"):
        read_annotations(path)
    with pytest.raises(FileNotFoundError):
        read_annotations(tmp_path / "nope.csv")


def test_annotations_to_y():
    y = annotations_to_y(5, np.array([0, 3]), np.array([2, 1]))
    assert y.dtype == np.int64 and y.tolist() == [2, -1, -1, 1, -1]
    y = annotations_to_y(3, [1], np.array(["cat"], dtype=object))
    assert y.dtype == object and y.tolist() == [-1, "cat", -1]
    assert annotations_to_y(2, [], []).tolist() == [-1, -1]
    with pytest.raises(ValueError, match="out of range"):
        annotations_to_y(3, [3], [0])
    with pytest.raises(ValueError, match="repeats index 1"):
        annotations_to_y(3, [1, 1], [0, 0])
    with pytest.raises(ValueError, match="unlabeled marker"):
        annotations_to_y(3, [1], [-1])
    with pytest.raises(ValueError, match="n_samples"):
        annotations_to_y(0, [], [])


def test_annotations_round_trip_feeds_y(tmp_path):
    path = save_labels_csv(tmp_path / "ann.csv", [8, 2], ["dog", "cat"])
    y = annotations_to_y(10, *read_annotations(path))
    assert y[8] == "dog" and y[2] == "cat" and (y == -1).sum() == 8


# -- labeled / unlabeled splits ------------------------------------------------

@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_ssl_split_round_trip(tmp_path, suffix):
    path = save_ssl_split(tmp_path / f"split{suffix}", [7, 2, 4], 9, labels=[1, 0, 1])
    split = load_ssl_split(path)
    assert split.lb_idx.tolist() == [7, 2, 4]
    assert split.ulb_idx.tolist() == [0, 1, 3, 5, 6, 8]
    assert split.n_samples == 9
    assert split.lb_labels.tolist() == [1, 0, 1]


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_ssl_split_string_labels_and_mask(tmp_path, suffix):
    mask = np.zeros(4, dtype=bool)
    mask[[1, 3]] = True
    path = save_ssl_split(tmp_path / f"split{suffix}", mask, 4,
                          labels=np.array(["a", "b"], dtype=object))
    split = load_ssl_split(path)
    assert split.lb_idx.tolist() == [1, 3] and split.ulb_idx.tolist() == [0, 2]
    assert split.lb_labels.tolist() == ["a", "b"]
    if suffix == ".npz":  # readable without pickle
        with np.load(path, allow_pickle=False) as f:
            assert set(f.files) == {"lb_idx", "ulb_idx", "n_samples", "lb_labels"}


def test_ssl_split_json_format_documented(tmp_path):
    path = save_ssl_split(tmp_path / "s.json", [1], 3)
    record = json.loads(path.read_text())
    assert record == {"format": "skusl-ssl-split", "version": 1, "n_samples": 3,
                      "lb_idx": [1], "ulb_idx": [0, 2]}
    assert load_ssl_split(path).lb_labels is None


def test_ssl_split_errors(tmp_path):
    with pytest.raises(ValueError, match="use .json or .npz"):
        save_ssl_split(tmp_path / "s.txt", [1], 3)
    with pytest.raises(ValueError, match="repeats index 1"):
        save_ssl_split(tmp_path / "s.json", [1, 1], 3)
    with pytest.raises(ValueError, match="out of range"):
        save_ssl_split(tmp_path / "s.json", [3], 3)
    with pytest.raises(ValueError, match="labels"):
        save_ssl_split(tmp_path / "s.json", [1], 3, labels=[0, 1])
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a split file"):
        load_ssl_split(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError):
        load_ssl_split(tmp_path / "none.npz")


def test_usb_split_names_and_contents(tmp_path):
    folder = tmp_path / "data" / "cifar10" / "labeled_idx"
    lb_path, ulb_path = save_usb_split(folder, [9, 0, 4], 10, num_labels=40, seed=3)
    assert lb_path == folder / "lb_labels40_1_seed3_idx.npy"
    assert ulb_path == folder / "ulb_labels40_1_seed3_idx.npy"
    lb, ulb = np.load(lb_path), np.load(ulb_path)
    assert lb.tolist() == [9, 0, 4]
    assert ulb.tolist() == [1, 2, 3, 5, 6, 7, 8]
    assert np.intersect1d(lb, ulb).size == 0
    assert lb.dtype == np.int64


def test_selector_to_split_end_to_end(tmp_path, digits):
    from skusl import USLSelector

    X, y = digits
    selector = USLSelector(n_select=10, random_state=0).fit(X[:300])
    picks = selector.selected_indices_
    path = save_ssl_split(tmp_path / "split.npz", picks, 300, labels=y[:300][picks])
    split = load_ssl_split(path)
    assert np.array_equal(split.lb_idx, picks)
    assert split.lb_idx.size + split.ulb_idx.size == 300


# -- issue 10: files as users really have them ---------------------------------

pd = pytest.importorskip("pandas")


def _frame(n=30, d=4, seed=0):
    return np.random.RandomState(seed).rand(n, d)


def test_pandas_csv_header_row_is_not_a_sample(tmp_path):
    X = _frame()
    pd.DataFrame(X).to_csv(tmp_path / "a.csv", index=False)  # header 0,1,2,3
    got = load_embeddings(tmp_path / "a.csv")
    assert got.shape == X.shape  # was 31 rows: every selected index off by one
    np.testing.assert_allclose(got, X)
    pd.DataFrame(X[:, :1]).to_csv(tmp_path / "one.csv", index=False)  # header "0"
    np.testing.assert_allclose(load_embeddings(tmp_path / "one.csv"), X[:, :1])


@pytest.mark.parametrize("index_name", [None, "id"])
def test_pandas_csv_index_column_is_not_a_feature(tmp_path, index_name):
    X = _frame()
    frame = pd.DataFrame(X)
    frame.index.name = index_name
    frame.to_csv(tmp_path / "a.csv")  # ",0,1,2,3" then "0,..." rows
    got = load_embeddings(tmp_path / "a.csv")
    assert got.shape == X.shape
    np.testing.assert_allclose(got, X)


def test_csv_with_bom_and_missing_values(tmp_path):
    X = _frame(5, 3)
    body = "\n".join(",".join(repr(float(v)) for v in row) for row in X) + "\n"
    (tmp_path / "bom.csv").write_text("\ufeff" + body, encoding="utf-8")
    np.testing.assert_allclose(load_embeddings(tmp_path / "bom.csv"), X)  # row 0 kept
    (tmp_path / "bomh.csv").write_text("\ufefff0,f1,f2\n" + body, encoding="utf-8")
    np.testing.assert_allclose(load_embeddings(tmp_path / "bomh.csv"), X)
    frame = pd.DataFrame(X)
    frame.iloc[0, 1] = np.nan  # pandas writes NaN as an empty field
    frame.to_csv(tmp_path / "nan0.csv", index=False, header=False)
    with pytest.raises(ValueError, match="line 1, column 2 is empty"):
        load_embeddings(tmp_path / "nan0.csv")  # was silently dropped as a "header"
    frame.iloc[0, 1] = 0.5
    frame.iloc[3, 2] = np.nan
    frame.to_csv(tmp_path / "nan3.csv", index=False)
    with pytest.raises(ValueError, match="line 5, column 3 is empty"):
        load_embeddings(tmp_path / "nan3.csv")
    (tmp_path / "lit.csv").write_text("1,2\nnan,3\n4,5\n")
    with pytest.raises(ValueError, match=r"line\(s\) 2 hold NaN"):
        load_embeddings(tmp_path / "lit.csv")
    (tmp_path / "word.csv").write_text("1,2\n3,x\n")
    with pytest.raises(ValueError, match="line 2, column 2 holds 'x'"):
        load_embeddings(tmp_path / "word.csv")
    (tmp_path / "ragged.csv").write_text("1,2\n3,4,5\n")
    with pytest.raises(ValueError, match="line 2 has 3 fields"):
        load_embeddings(tmp_path / "ragged.csv")


def test_csv_ambiguous_integer_header_asks(tmp_path):
    (tmp_path / "i.csv").write_text("0,1,2\n3,4,5\n6,7,8\n")
    with pytest.raises(ValueError, match="header=True"):
        load_embeddings(tmp_path / "i.csv")
    assert load_embeddings(tmp_path / "i.csv", header=True).shape == (2, 3)
    assert load_embeddings(tmp_path / "i.csv", header=False).shape == (3, 3)


def test_parquet_pandas_index_is_not_a_feature(tmp_path):
    pytest.importorskip("pyarrow")
    X = _frame()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(4)], index=np.arange(30) * 7)
    frame.to_parquet(tmp_path / "a.parquet")  # stores __index_level_0__
    np.testing.assert_allclose(load_embeddings(tmp_path / "a.parquet"), X)


def test_save_indices_reads_a_mask_as_a_mask(tmp_path):
    mask = np.zeros(10, dtype=bool)
    mask[[2, 7]] = True
    for suffix in (".csv", ".txt", ".json", ".npy"):
        path = save_indices(mask, tmp_path / f"m{suffix}")
        assert load_indices(path).tolist() == [2, 7]  # was the 0/1 values
    np.testing.assert_array_equal(load_indices(save_indices([3.0, 1.0], tmp_path / "f.csv")),
                                  [3, 1])


@pytest.mark.parametrize("bad, match", [([1.7, 2.2], "whole numbers"), ([3, -1], "non-negative"),
                                        ([np.nan], "NaN"), ([1e22], "far beyond"),
                                        (["a"], "row numbers"),
                                        (np.ones((2, 2), dtype=int), "1-D")])
def test_save_indices_refuses_what_is_not_an_index(tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        save_indices(bad, tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_load_indices_detects_headers(tmp_path):
    (tmp_path / "a.csv").write_text("5\n3\n8\n")  # headerless CSV: keep the first index
    assert load_indices(tmp_path / "a.csv").tolist() == [5, 3, 8]
    (tmp_path / "b.txt").write_text("idx\n5\n3\n")
    assert load_indices(tmp_path / "b.txt").tolist() == [5, 3]
    save_labels_csv(tmp_path / "l.csv", [4, 0], ["cat", "dog"])
    assert load_indices(tmp_path / "l.csv").tolist() == [4, 0]  # its index column
    (tmp_path / "c.csv").write_text("index\n5\n2.5\n")
    with pytest.raises(ValueError, match="line 3: '2.5' is not an index"):
        load_indices(tmp_path / "c.csv")
    (tmp_path / "d.txt").write_text("\ufeff7\n1\n")
    assert load_indices(tmp_path / "d.txt").tolist() == [7, 1]
    (tmp_path / "e.json").write_text('{"lb_idx": [1]}')
    with pytest.raises(ValueError, match="load_ssl_split"):
        load_indices(tmp_path / "e.json")


def _writers(tmp_path):
    """Every writer of skusl.io, as (name, path, write())."""
    out = []
    for suffix in (".csv", ".txt", ".json", ".npy"):
        out.append((f"save_indices{suffix}", tmp_path / f"i{suffix}",
                    lambda p: save_indices([1, 0], p)))
    out.append(("save_labels_csv", tmp_path / "l.csv",
                lambda p: save_labels_csv(p, [1], ["a"])))
    for suffix in (".json", ".npz"):
        out.append((f"save_ssl_split{suffix}", tmp_path / f"s{suffix}",
                    lambda p: save_ssl_split(p, [1], 3)))
    out.append(("save_usb_split", tmp_path / "usb" / "lb_labels1_1_seed0_idx.npy",
                lambda p: save_usb_split(p.parent, [1], 3)))

    def raw(p):
        with atomic_write(p) as f:
            f.write("x\n")
    out.append(("atomic_write", tmp_path / "raw.txt", raw))
    return out


def test_writers_keep_the_umask_mode_and_an_existing_mode(tmp_path):
    old = os.umask(0o022)
    try:
        for name, path, write in _writers(tmp_path):
            write(path)
            assert oct(path.stat().st_mode & 0o777) == oct(0o644), name  # was 0o600
            os.chmod(path, 0o640)
            write(path)
            assert oct(path.stat().st_mode & 0o777) == oct(0o640), name
    finally:
        os.umask(old)


def test_writers_write_through_symlinks(tmp_path):
    for name, path, write in _writers(tmp_path):
        real = tmp_path / "real" / f"target_{path.name}"
        real.parent.mkdir(exist_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        real.write_bytes(b"old")
        path.symlink_to(real)
        write(path)
        assert path.is_symlink(), name  # the link stays a link
        assert real.read_bytes() != b"old", name  # and its target has the new content


def test_renamed_and_broken_numpy_files(tmp_path):
    X = _frame()
    np.savez(tmp_path / "z.npz", X=X)
    os.replace(tmp_path / "z.npz", tmp_path / "z.npy")
    with pytest.raises(ValueError, match="rename it to .npz"):
        load_embeddings(tmp_path / "z.npy")  # was an NpzFile, not an array
    with pytest.raises(ValueError, match="rename it to .npz"):
        load_indices(tmp_path / "z.npy")
    np.save(tmp_path / "a.npy", X)
    os.replace(tmp_path / "a.npy", tmp_path / "a.npz")
    with pytest.raises(ValueError, match="rename it to .npy"):
        load_embeddings(tmp_path / "a.npz")
    np.save(tmp_path / "t.npy", X)
    data = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        np.asarray(load_embeddings(tmp_path / "t.npy"))
    np.savez(tmp_path / "c.npz", X=X)
    data = (tmp_path / "c.npz").read_bytes()
    (tmp_path / "c.npz").write_bytes(data[:40])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_embeddings(tmp_path / "c.npz")
    (tmp_path / "e.npy").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        load_embeddings(tmp_path / "e.npy")
    with pytest.raises(ValueError, match="folder"):
        load_embeddings(tmp_path)


def test_pickled_arrays_are_refused_without_unsafe_advice(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}] * 3, dtype=object), allow_pickle=True)
    np.savez(tmp_path / "o.npz", X=np.array([{"a": 1}] * 3, dtype=object))
    for path in (tmp_path / "o.npy", tmp_path / "o.npz"):
        with pytest.raises(ValueError) as info:
            load_embeddings(path)
        message = str(info.value)
        assert "never unpickles" in message
        assert "unsafe" not in message and "pickle.load" not in message


def test_read_annotations_bom_huge_and_float_indices(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("\ufeffindex,label\n3,a\n", encoding="utf-8")
    assert read_annotations(path)[0].tolist() == [3]  # was "no column 'index'"
    path.write_text("index,label\n10000000000000000000000,a\n")
    with pytest.raises(ValueError, match="far beyond any row number"):
        read_annotations(path)
    path.write_text("3.0,a\n1,b\n")
    assert read_annotations(path)[0].tolist() == [3, 1]


def test_writers_refuse_folders_and_paths_below_files(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        save_indices([1], tmp_path / "afile" / "x.csv")
    with pytest.raises(ValueError, match="is a folder"):
        save_labels_csv(tmp_path, [1], [0])

from slm_acl.lib.table import CsvTable


def test_truncate_drops_rows_after_checkpoint_and_half_lines(tmp_path):
    path = tmp_path / "t.csv"
    table = CsvTable(path, ["a", "b"])
    table.extend([{"a": i, "b": i * 2} for i in range(5)])
    table.flush()
    with open(path, "a") as f:
        f.write("5,10\n6,1")  # a row after the checkpoint and a half-written one
    reopened = CsvTable(path, ["a", "b"])
    reopened.truncate(5)
    assert path.read_text().splitlines() == ["a,b"] + [f"{i},{i * 2}" for i in range(5)]
    reopened.append({"a": 5, "b": 10})
    reopened.flush()
    assert reopened.flushed == 6 and path.read_text().splitlines()[-1] == "5,10"


def test_no_global_numpy_or_random_state_in_package():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "slm_acl"
    pattern = re.compile(r"np\.random\.(rand|randn|randint|uniform|normal|choice|shuffle|seed)\(|random\.(random|seed|choice|randint)\(")
    offenders = [str(p) for p in root.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []

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


def test_a_row_with_an_unknown_column_is_refused_with_the_file_and_the_known_columns(tmp_path):
    import pytest

    from slm_acl.lib.table import UnknownColumnError

    path = tmp_path / "metrics_df.csv"
    table = CsvTable(path, ["frame", "loss"])
    with pytest.raises(UnknownColumnError) as caught:
        table.append({"frame": 1, "loss": 0.5, "q_loss": 2.0, "alpha": 0.1})
    message = str(caught.value)
    assert str(path) in message and "['alpha', 'q_loss']" in message and "['frame', 'loss']" in message
    with pytest.raises(UnknownColumnError, match="q_loss"):
        table.extend([{"frame": 2}, {"frame": 3, "q_loss": 1.0}])
    assert table.rows == 0  # nothing of a refused batch is kept
    table.append({"frame": 4})  # a known column left out is an empty cell
    table.flush()
    assert path.read_text().splitlines() == ["frame,loss", "4,"]


def test_a_column_declared_twice_is_refused(tmp_path):
    import pytest

    with pytest.raises(ValueError, match=r"\['fps'\] more than once"):
        CsvTable(tmp_path / "m.csv", ["frame", "fps", "loss", "fps"])

"""Where a run writes: `data/{spec}_{YYYY_MM_DD_HHMMSS}/` with info/ model/ graph/ video/ log/ (and tb/, bodies/)."""
from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from slm_acl.analysis.files import BodyFiles

FOLDERS = ("info", "model", "graph", "video", "log")


@dataclasses.dataclass(frozen=True)
class RunPaths:
    predir: Path
    spec_name: str

    @classmethod
    def new(cls, data_dir: str | Path, spec_name: str) -> "RunPaths":
        stamp = datetime.datetime.now().strftime("%Y_%m_%d_%H%M%S")
        predir = Path(data_dir) / f"{spec_name}_{stamp}"
        k = 1
        while predir.exists():  # two runs started in the same second
            predir = Path(data_dir) / f"{spec_name}_{stamp}_{k}"
            k += 1
        paths = cls(predir, spec_name)
        paths.make_dirs()
        return paths

    def make_dirs(self) -> None:
        for folder in FOLDERS:
            (self.predir / folder).mkdir(parents=True, exist_ok=True)

    def prename(self, trial: int | None = None, session: int | None = None) -> str:
        name = self.spec_name
        if trial is not None:
            name += f"_t{trial}"
        if session is not None:
            name += f"_s{session}"
        return name

    def spec_file(self, trial: int | None = None, session: int | None = None) -> Path:
        return self.predir / f"{self.prename(trial, session)}_spec.json"

    def info(self, filename: str) -> Path:
        return self.predir / "info" / filename

    def model(self, filename: str) -> Path:
        return self.predir / "model" / filename

    def graph(self, filename: str) -> Path:
        return self.predir / "graph" / filename

    def video(self, filename: str) -> Path:
        return self.predir / "video" / filename

    def log(self, filename: str) -> Path:
        return self.predir / "log" / filename

    def body(self, filename: str) -> Path:
        """A copy of a body file the run's specs name, `bodies/{name}.json` (made with the resolved spec that
        names it, so only runs of custom bodies have bodies/; see experiment/run_bodies.py)."""
        return self.predir / "bodies" / filename

    def tensorboard(self, trial: int, session: int, label: str) -> Path:
        """A session body's TensorBoard run, `tb/{spec}_t{k}_s{s}/{body}` (made by its writer, so a run with
        `meta.tensorboard: false` has no tb/)."""
        return self.predir / "tb" / self.prename(trial, session) / label

    def checkpoint(self, trial: int, session: int, tag: str = "") -> Path:
        """A session's last checkpoint, `model/{spec}_t{k}_s{s}_ckpt.pt`, or one it keeps beside it: tag `best`
        (`..._ckpt_best.pt`, its best policy) or `f{frame}` (`..._ckpt_f500000.pt`, a snapshot)."""
        return self.model(f"{self.prename(trial, session)}_ckpt{'_' + tag if tag else ''}.pt")

    def evaluation(self, name: str) -> Path:
        """The folder of one eval-mode evaluation, `eval/{session}_{checkpoint}_{test_set}/` (made by eval mode)."""
        return self.predir / "eval" / name

    def table(self, trial: int, session: int, label: str, kind: str) -> Path:
        return self.info(f"{self.prename(trial, session)}_{label}_{kind}.csv")

    def body_files(self, trial: int, session: int, label: str) -> BodyFiles:
        """A session body's tables and graph stem, as the analysis takes them (plain paths)."""
        prename = self.prename(trial, session)
        tables = {kind: self.table(trial, session, label, kind)
                  for kind in ("session_df", "eval_df", "curriculum_df", "teacher_df", "resets_df")}
        return BodyFiles(f"{prename} {label}", **tables, graph_stem=self.graph(f"{prename}_{label}"))

"""Published baselines on demand: catalog, verified resumable fetch, CLI, analyzer hook.

No network: the "remote" is a folder built in tmp from the 12 published files in
``shared/reference_results/deepobs_1.1_baselines`` (byte for byte as published), listed with
their git blob SHA-1s. The real download is the ``download``-marked test at the end.
"""

from __future__ import annotations

import logging
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from deepobs.pytorch.baselines import (
    NAME,
    PINNED_COMMIT,
    BaselinesUnavailableError,
    Catalog,
    GitHubSource,
    LocalSource,
    blob_sha1,
    fetch_baselines,
    resolve_baselines,
)
from deepobs.pytorch.baselines.catalog import BaselineFile
from deepobs.pytorch.cli import main

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference_results"
FULL = REFERENCE / "deepobs_1.1_baselines"
MANIFEST = REFERENCE / "deepobs_1.1_baselines_manifest.tsv"
QUADRATIC_SGD = "quadratic_deep/GradientDescentOptimizer/num_epochs__100__batch_size__128__lr__"


def manifest() -> dict[str, tuple[str, int]]:
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()[1:]
    return {p: (sha, int(size)) for p, sha, size in (line.split("\t") for line in lines)}


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A copy of the published files, plus one more (seed-42-only) SGD setting."""
    root = tmp_path / "remote"
    shutil.copytree(FULL, root)
    seed42 = next((root / "quadratic_deep" / "GradientDescentOptimizer").glob("*/*42__*.json"))
    other = root / f"{QUADRATIC_SGD}1.e-01" / seed42.name
    other.parent.mkdir(parents=True)
    shutil.copy(seed42, other)
    return root


def test_blob_sha1_matches_the_published_tree():
    published = manifest()
    files = sorted(p for p in FULL.rglob("*") if p.is_file())
    assert len(files) == 13  # 12 results + convergence_performance.json
    for path in files:
        sha, size = published[path.relative_to(FULL).as_posix()]
        assert (blob_sha1(path.read_bytes()), path.stat().st_size) == (sha, size)


def test_catalog_of_the_published_tree():
    catalog = Catalog([BaselineFile(p, sha, size) for p, (sha, size) in manifest().items()])
    assert len(catalog.problems()) == 8 and len(catalog.settings) == 24
    rows = catalog.summary()
    assert all(r["n_settings"] == 36 and r["best_seeds"] == list(range(42, 52)) for r in rows)
    assert catalog.best_setting("quadratic_deep", "GradientDescentOptimizer").endswith(
        "lr__1.5848931925e-02"
    )
    best = catalog.select()
    assert len(best) == 241 and [f.path for f in catalog.extras] == ["convergence_performance.json"]
    assert sum(f.size for f in best) == 352_743_184 + 288  # measured: ~353 MB by default
    assert sum(f.size for f in catalog.select(all_settings=True)) == sum(
        size for _, size in manifest().values()
    )  # the whole tree: ~1.38 GB
    quadratic = catalog.select(["quadratic_deep"])
    assert sum(f.size for f in quadratic) < 200_000 * 3 and len(quadratic) == 31
    with pytest.raises(ValueError, match="No published DeepOBS 1.1 baselines for 'mnist'"):
        catalog.select(["mnist"])


def test_fetch_is_verified_and_resumable(remote, tmp_path, caplog):
    pytest.importorskip("pandas", reason="the analyzer extra is not installed")
    from deepobs.pytorch.analyzer import read_results

    cache = tmp_path / "cache"
    source = LocalSource(remote)
    with caplog.at_level(logging.INFO, logger="deepobs"):
        report = fetch_baselines(["quadratic_deep"], cache=cache, source=source, progress=False)
    assert "10 of 10 file(s) to download" in caplog.text and "MB" in caplog.text
    assert len(report.downloaded) == 10 and not report.present  # 9 results + thresholds
    assert not list(cache.rglob(f"{QUADRATIC_SGD}1.e-01"))  # not the chosen setting
    results = read_results(cache)
    assert len(results) == 9 and {r.source for r in results.runs} == {"deepobs-1.1"}
    assert {r.data_order for r in results.runs} == {"fixed"}
    # Resume: nothing to download; a corrupted file is fetched again.
    victim = next(cache.rglob("random_seed__43__*.json"))
    victim.write_bytes(victim.read_bytes()[:-10])
    report = fetch_baselines(["quadratic_deep"], cache=cache, source=source, progress=False)
    assert report.downloaded == [victim.relative_to(cache).as_posix()]
    assert len(report.present) == 9
    assert blob_sha1(victim.read_bytes()) == manifest()[report.downloaded[0]][0]
    report = fetch_baselines(
        ["quadratic_deep"], cache=cache, source=source, all_settings=True, progress=False
    )
    extra = next(remote.glob(f"{QUADRATIC_SGD}1.e-01/*.json")).relative_to(remote)
    assert report.downloaded == [extra.as_posix()] and len(report.present) == 10


def test_fetch_rejects_a_file_whose_sha_does_not_match(remote, tmp_path):
    listing = tmp_path / "listing.tsv"
    rows = [("path", "git_blob_sha1", "bytes")]
    for f in LocalSource(remote).list_files():
        sha = "0" * 40 if f.path.startswith("mnist_vae/") else f.sha
        rows.append((f.path, sha, str(f.size)))
    listing.write_text("\n".join("\t".join(r) for r in rows) + "\n", encoding="utf-8")
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="does not match the published 0000"):
        fetch_baselines(["mnist_vae"], cache=cache, source=LocalSource(remote, listing))
    assert not list(cache.rglob("random_seed__*"))  # nothing half-written or unverified


def test_cli_list_and_fetch(remote, tmp_path, capsys):
    cache = tmp_path / "cache"
    assert main(["baselines", "list", "--source", str(remote), "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "quadratic_deep" in out and "1.5848931925e-02" in out and "0/3" in out
    code = main(
        [
            "baselines",
            "fetch",
            "quadratic_deep",
            "fmnist_2c2d",
            "--cache",
            str(cache),
            "--source",
            str(remote),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "11 file(s) downloaded" in out and f"--baselines {cache}" in out
    assert main(["baselines", "fetch", "nope", "--cache", str(cache), "--source", str(remote)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("deepobs: error: No published DeepOBS 1.1 baselines for 'nope'")
    assert len(err.splitlines()) == 1


def test_offline_is_one_clear_line(monkeypatch, tmp_path, capsys):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(BaselinesUnavailableError, match="cannot list the published baselines"):
        GitHubSource().list_files()
    assert main(["baselines", "fetch", "quadratic_deep", "--cache", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("deepobs: error: cannot list the published")
    assert "api.github.com" in err[0] and "--source" in err[0]


def test_analyze_with_baselines_by_name(remote, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib", reason="the analyzer extra is not installed")
    from deepobs.pytorch._cli.analyze import reference_path

    monkeypatch.setenv("DEEPOBS_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(FileNotFoundError, match="fetch them first with 'deepobs baselines fetch"):
        resolve_baselines(NAME)
    with pytest.raises(ValueError, match="Unknown baselines 'deepobs-1.0'"):
        resolve_baselines("deepobs-1.0")
    fetch_baselines(["quadratic_deep"], source=LocalSource(remote), progress=False)
    cache = tmp_path / "data" / "baselines" / NAME
    assert resolve_baselines(NAME) == cache == reference_path(NAME)
    assert reference_path(str(tmp_path)) == tmp_path and reference_path(None) is None


def test_data_order_warning_against_published_runs(caplog):
    from deepobs.pytorch.results.read import read_runs
    from deepobs.pytorch.results.select import warn_mixed_data_orders

    runs, _ = read_runs(FULL / "quadratic_deep")
    mine = [r for r in runs if r.optimizer == "AdamOptimizer"]
    for run in mine:
        run.training_params = {"data_order": "reshuffle"}
    with caplog.at_level(logging.WARNING, logger="deepobs"):
        assert warn_mixed_data_orders(runs, "the analysis") == {
            "quadratic_deep": {"fixed", "reshuffle"}
        }
    assert "different data orders" in caplog.text and "published 1.1" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="deepobs"):
        assert warn_mixed_data_orders(mine, "the analysis") == {}
    assert not caplog.text


@pytest.mark.download
def test_real_download_of_quadratic_deep(tmp_path):
    source = GitHubSource()
    assert source.commit == PINNED_COMMIT
    report = fetch_baselines(["quadratic_deep"], cache=tmp_path, source=source, progress=False)
    assert len(report.downloaded) == 31  # 3 optimizers x 10 seeds + thresholds
    published = manifest()
    for path in report.downloaded:
        assert blob_sha1((tmp_path / path).read_bytes()) == published[path][0]

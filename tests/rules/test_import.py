"""`bot rules import`: writes loadable files, re-import keeps hand edits and reports them."""

from pathlib import Path

from bot.cli import main
from bot.rules import load_rules
from bot.rules.importer import run_import

DATA = Path(__file__).parent / "data"
EN = DATA / "english_edition.md"


def test_import_writes_a_tree_that_loads(tmp_path, capsys):
    assert (
        main(
            ["rules", "import", str(EN), "--campaign", "sprint", "--rfc-list", str(DATA / "rfc_list.md"), "--out", str(tmp_path)]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "sprint: 3 tasks found" in out and "with targets: 2/3" in out and "needing an RFC: 1/3" in out
    # task 14 names no place and nothing around it does: no repository rather than a guess, and the
    # summary lists it among what blocks the campaign (its PRs could not be checked)
    assert "BLOCKING" in out and "no tracker" in out and "1 tasks cannot be checked (no target paths, no tests, no RFC" in out
    assert "task 14: no repository" in out
    (tmp_path / "sprint" / "campaign.yml").write_text(
        (tmp_path / "sprint" / "campaign.yml").read_text().replace("tracker:", "tracker: o/r#1")
    )
    rules = load_rules(tmp_path)
    tasks = rules.campaigns["sprint"].tasks
    assert sorted(tasks) == [12, 13, 14]
    assert tasks[12].source.anchor == "task12" and tasks[12].rfc.required is False  # the RFC list wins
    assert tasks[12].in_targets("PaddlePaddle/Paddle", "python/paddle/tensor/stat.py")
    assert tasks[14].target_repos() == [] and not tasks[14].checkable
    assert tasks[13].target_repos() == ["PaddlePaddle/Paddle"]  # `python/paddle/io`: Paddle's package


def test_reimport_unchanged_writes_nothing(tmp_path):
    run_import([EN], "s", tmp_path)
    report = run_import([EN], "s", tmp_path)
    assert report.written == [] and report.kept == []


def test_hand_edit_detected_from_record_is_kept_and_reported(tmp_path):
    run_import([EN], "s", tmp_path)
    f = tmp_path / "s" / "012.yml"
    f.write_text(f.read_text().replace("difficulty: Easy", "difficulty: 基础  # a maintainer's word"))
    changed = tmp_path / "en.md"
    changed.write_text(
        EN.read_text()
        .replace("Difficulty: Easy", "Difficulty: Medium")
        .replace("Speed up the data loader", "Speed up the loader")
    )
    report = run_import([changed], "s", tmp_path)
    text = f.read_text()
    assert "difficulty: 基础  # a maintainer's word" in text
    assert "hand_edited:\n  - difficulty" in text
    assert report.kept == ["s/012.yml: difficulty: file has '基础', the collection now gives 'Medium'"]
    assert "title: Speed up the loader" in (tmp_path / "s" / "013.yml").read_text()  # not edited: updated


def test_listed_hand_edited_field_is_kept_even_if_unchanged_by_hand(tmp_path):
    run_import([EN], "s", tmp_path)
    f = tmp_path / "s" / "013.yml"
    f.write_text(f.read_text().replace("hand_edited: []", "hand_edited: [title]"))
    changed = tmp_path / "en.md"
    changed.write_text(EN.read_text().replace("Speed up the data loader", "Speed up the loader"))
    report = run_import([changed], "s", tmp_path)
    assert "title: Speed up the data loader" in f.read_text()
    assert len(report.kept) == 1 and report.kept[0].startswith("s/013.yml: title:")


def test_without_record_any_difference_is_kept(tmp_path):
    run_import([EN], "s", tmp_path)
    (tmp_path / "s" / ".generated.yml").unlink()
    f = tmp_path / "s" / "014.yml"
    f.write_text(f.read_text().replace("title: Document the C++ inference API", "title: Docs"))
    report = run_import([EN], "s", tmp_path)
    assert "title: Docs" in f.read_text() and report.kept[0].startswith("s/014.yml: title:")


def test_task_gone_from_collection_is_kept_and_reported(tmp_path):
    run_import([EN], "s", tmp_path)
    shorter = tmp_path / "en.md"
    shorter.write_text(EN.read_text().split("## Task 14")[0])
    report = run_import([shorter], "s", tmp_path)
    assert report.stale == ["s/014.yml"] and (tmp_path / "s" / "014.yml").exists()


def test_unnumbered_blocks_need_number_from(tmp_path):
    src = DATA / "chinese_headings.md"
    report = run_import([src], "s", tmp_path)
    assert report.tasks == 2 and report.unnumbered_skipped == 1
    assert any(w.line == 23 for w in report.warnings)
    report = run_import([src], "s2", tmp_path, number_from=12)
    assert report.numbered_by_option == 1
    text = (tmp_path / "s2" / "014.yml").read_text()  # 12 and 13 are taken
    assert "assigned by --number-from" in text and "title: 这个任务忘了编号" in text


def test_the_fast_yaml_writer_reads_back_as_written():
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from ruamel.yaml import YAML

    from bot.rules.importer import emit_yaml

    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=30))
    values = st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=12), inner, max_size=4)
        ),
        max_leaves=12,
    )
    docs = st.dictionaries(st.one_of(st.text(min_size=1, max_size=12), st.integers(0, 999)), values, max_size=6)
    safe = YAML(typ="safe")

    @settings(max_examples=300, deadline=None)
    @given(docs)
    def check(doc):
        assert (safe.load(emit_yaml(doc, "header\nline two")) or {}) == doc

    check()

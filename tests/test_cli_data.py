import json

from qawl.cli.main import main


def test_validate_clean_files(fixtures_dir, capsys):
    assert main(["data", "validate", str(fixtures_dir / "news.jsonl"), str(fixtures_dir / "news.conll")]) == 0
    out = capsys.readouterr().out
    assert out.strip() == "2 file(s), 5 record(s): 0 error(s), 0 warning(s)"


def test_validate_reports_each_problem_and_fails(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "d1", "text": "نص", "entities": [{"start": 0, "end": 2, "label": "PER", "text": "نص"}]}\n'
                    "{broken\n", encoding="utf-8")
    assert main(["data", "validate", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{path}:1: [d1] entity #1 'نص' 0:2: unknown label 'PER'")
    assert lines[1].startswith(f"{path}:2: invalid JSON")
    assert lines[2] == "1 file(s), 2 record(s): 2 error(s), 0 warning(s)"


def test_validate_warnings_pass_unless_strict(tmp_path, capsys):
    path = tmp_path / "w.conll"
    path.write_text("أحمد I-PERS\n\n", encoding="utf-8")
    assert main(["data", "validate", str(path)]) == 0
    assert f"{path}:1: [1] warning: I-PERS without" in capsys.readouterr().out
    assert main(["data", "validate", "--strict", str(path)]) == 1


def test_stats_table_and_json(fixtures_dir, capsys):
    conll = str(fixtures_dir / "news.conll")
    assert main(["data", "stats", conll]) == 0
    assert "sentences" in capsys.readouterr().out
    assert main(["data", "stats", "--json", conll]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["documents"], stats["tokens"], stats["entities"]) == (3, 29, 5)


def test_convert_between_formats(fixtures_dir, tmp_path, capsys):
    src = fixtures_dir / "news.jsonl"
    tasks, back, conll = tmp_path / "tasks.json", tmp_path / "back.jsonl", tmp_path / "news.conll"
    assert main(["data", "convert", str(src), str(tasks)]) == 0
    assert main(["data", "convert", str(tasks), str(back)]) == 0
    assert back.read_bytes() == src.read_bytes()
    assert main(["data", "convert", str(fixtures_dir / "news.conll"), str(conll)]) == 0
    assert conll.read_bytes() == (fixtures_dir / "news.conll").read_bytes()
    assert "wrote 3 document(s)" in capsys.readouterr().err


def test_convert_skips_bad_records_and_fails(tmp_path, fixtures_dir, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text((fixtures_dir / "news.jsonl").read_text(encoding="utf-8") + '{"id": "x", "error": "boom"}\n',
                   encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["data", "convert", str(src), str(out)]) == 1
    assert out.read_bytes() == (fixtures_dir / "news.jsonl").read_bytes()
    assert "in.jsonl:3 [x]: error record" in capsys.readouterr().err


def test_labelstudio_config(capsys):
    assert main(["data", "labelstudio-config"]) == 0
    assert capsys.readouterr().out.startswith("<View>")


def test_usage_errors(tmp_path, capsys):
    assert main(["data"]) == 2
    assert main(["data", "stats", str(tmp_path / "x.txt")]) == 2
    assert "unknown corpus format" in capsys.readouterr().err

"""Every packaged evaluation set and every shared-data format loads into Problems with the right counts and fields;
the Parquet round trip is lossless; the hub path works through `datasets.load_dataset` on a local builder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from darl.benchmarks import BENCHMARKS, load_benchmark
from darl.data import loaders
from darl.data.io import read_problems, write_problems
from darl.data.loaders import SourceSpec, detect_format, load_problems, load_source
from darl.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures" / "shared"


@pytest.mark.parametrize("name,count,domain", [
    ("math500", 500, "math"), ("aime24", 30, "math"), ("amc23", 40, "math"), ("amc22_23", 83, "math"),
    ("gsm8k", 1319, "math"), ("humaneval", 164, "code"), ("mbpp", 257, "code"), ("mbpp_test500", 500, "code"),
])
def test_packaged_benchmarks_load_whole(name, count, domain):
    problems = load_benchmark(name)
    assert len(problems) == count
    assert {p.domain for p in problems} == {domain}
    assert len({p.id for p in problems}) == count
    assert all(p.id.startswith(f"{name}/") and p.source == name for p in problems)


def test_math_fields():
    math500 = load_benchmark("math500")
    first = math500[0]
    assert first.id == "math500/test/precalculus/807.json"
    assert first.answer == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert first.metadata["subject"] == "Precalculus" and first.metadata["level"] == 2
    assert "solution" in first.metadata
    aime = load_benchmark("aime24")
    assert aime[0].answer == "204" and aime[0].metadata["contest"] == "2024 AIME I"
    leading_zero = [p for p in aime if p.metadata.get("original_answer") == "025"]
    assert len(leading_zero) == 1 and leading_zero[0].answer == "25"
    amc = load_benchmark("amc23")
    assert amc[0].answer == "27" and amc[0].metadata["original_answer"] == 27.0
    assert all(p.answer and "." not in p.answer for p in load_benchmark("amc22_23"))
    gsm = load_benchmark("gsm8k")
    assert gsm[0].answer == "18" and gsm[0].metadata["solution"].endswith("#### 18")
    assert not any("," in p.answer for p in gsm)  # thousands separators removed ('2,125' -> '2125')
    assert any(p.metadata["solution"].rstrip().endswith("2,125") and p.answer == "2125" for p in gsm)


def test_humaneval_fields():
    problems = load_benchmark("humaneval")
    first = problems[0]
    assert first.id == "humaneval/0"
    assert first.tests.entry_point == "has_close_elements"
    assert len(first.tests.asserts) == 1 and first.tests.asserts[0].rstrip().endswith("check(has_close_elements)")
    assert first.tests.prelude.startswith("from typing import List")
    assert "def has_close_elements" in first.prompt
    assert first.metadata["reference_solution"].startswith("from typing import List")
    decode = next(p for p in problems if p.tests.entry_point == "decode_cyclic")
    assert "def encode_cyclic" in decode.tests.prelude  # helpers the target function uses


def test_mbpp_fields():
    sanitized = load_benchmark("mbpp")
    first = sanitized[0]
    assert first.tests.asserts[0] == 'assert remove_Occ("hello","l") == "heo"'
    assert len(first.tests.asserts) == 3 and first.metadata["function_name"] == "remove_Occ"
    assert "def remove_Occ" in first.metadata["reference_solution"]
    assert first.tests.asserts[0] in first.prompt
    with_imports = [p for p in sanitized if p.tests.prelude]
    assert with_imports and all(p.tests.prelude.startswith(("import", "from")) for p in with_imports)
    full = load_problems(FIXTURES / "mbpp" / "mbpp.jsonl")
    assert len(full) == 974 and full[0].id == "mbpp/1"
    balanced = next(p for p in full if p.id == "mbpp/367")  # test_setup_code builds the solution's Node objects
    assert all(a.startswith("root = Node(1)") and a.rstrip().splitlines()[-1].startswith("assert")
               for a in balanced.tests.asserts)
    assert balanced.tests.prelude is None and "root = Node" not in balanced.prompt


def test_livecodebench_window_and_filters(caplog):
    window = load_benchmark("livecodebench")
    assert len(window) == 279  # 2024-08-01..2025-01-31
    assert all("2024-08-01" <= p.metadata["contest_date"][:10] <= "2025-01-31" for p in window)
    everything = load_benchmark("livecodebench", start=None, end=None)
    assert len(everything) == 879  # 880 rows; abc350_c has no public test and is left out, with a warning
    assert "abc350_c" in caplog.text and "public_test_cases" in caplog.text
    assert "livecodebench/abc350_c" not in {p.id for p in everything}
    hard_atcoder = load_benchmark("livecodebench", difficulty="hard", platform=["atcoder"])
    assert hard_atcoder and all(p.metadata["difficulty"] == "hard" and p.metadata["platform"] == "atcoder"
                                for p in hard_atcoder)
    functional = next(p for p in everything if p.tests.func_name)
    assert all(t.testtype == "functional" for t in functional.tests.io)
    assert "```python" in functional.prompt and "class Solution" in functional.prompt
    stdin = next(p for p in everything if p.tests.io[0].testtype == "stdin")
    assert stdin.tests.func_name is None and stdin.metadata["platform"] in ("atcoder", "codeforces")
    with pytest.raises(InputError, match="difficulty"):
        load_benchmark("livecodebench", difficulty="trivial")
    with pytest.raises(InputError, match="no filter"):
        load_benchmark("math500", difficulty="hard")
    with pytest.raises(InputError, match="unknown benchmark"):
        load_benchmark("nope")


def test_livecodebench_row_count_in_file():
    path = BENCHMARKS["livecodebench"].path
    loaded = load_source(path, skip_invalid=True)
    assert loaded.rows_read == 880 and len(loaded.problems) == 879 and len(loaded.skipped) == 1


@pytest.mark.parametrize("relative,fmt,rows", [
    ("math_train/deepscaler_train_math.json", "math", 200),
    ("math_train/deepscaler_train_aime_1983_2023.json", "math", 200),
    ("math_train/simplerl_math_level3to5_train.parquet", "verl", 200),
    ("gsm8k/gsm8k_train_simplerl.parquet", "verl", 200),
    ("leetcode/leetcode_test_200.json", "leetcode", 200),
    ("leetcode/leetcode_train_1889.json", "leetcode", 200),
    ("mbpp/mbpp_test_deepseek.jsonl", "mbpp", 500),
])
def test_shared_formats_detected(relative, fmt, rows):
    loaded = load_source(FIXTURES / relative)
    assert loaded.format == fmt and len(loaded.problems) == rows and not loaded.skipped


def test_training_formats_fields():
    math_train = load_problems(FIXTURES / "math_train" / "deepscaler_train_math.json")
    assert {"subject", "level"} <= set(math_train[0].metadata) and math_train[0].metadata["level"] in range(0, 6)
    aime = load_problems(FIXTURES / "math_train" / "deepscaler_train_aime_1983_2023.json")
    assert aime[0].id == "deepscaler_train_aime_1983_2023/1983-1-1" and aime[0].answer == "60"
    simplerl = load_problems(FIXTURES / "math_train" / "simplerl_math_level3to5_train.parquet")
    assert "<|im_start|>" not in simplerl[0].prompt and simplerl[0].answer == "118"
    assert isinstance(simplerl[0].metadata["level"], int) and simplerl[0].metadata["subject"]
    gsm = load_problems(FIXTURES / "gsm8k" / "gsm8k_train_simplerl.parquet")
    assert gsm[0].answer == "72" and not gsm[0].prompt.endswith('"####".')
    leetcode = load_problems(FIXTURES / "leetcode" / "leetcode_test_200.json")
    first = leetcode[0]
    assert first.id == "leetcode_test_200/0" and not first.prompt.startswith("Please solve")
    assert "class ListNode" in first.tests.prelude and "def tree_node" in first.tests.prelude
    assert first.tests.asserts[0].rstrip().endswith("check(Solution().minOperations)")
    assert first.metadata["method"] == "minOperations" and "class Solution" in first.metadata["reference_solution"]


def test_leetcode_prelude_helpers_work():
    namespace: dict = {}
    exec(loaders.ROW_FORMATS["leetcode"].to_problem.__globals__["LEETCODE_PRELUDE"], namespace)
    tree = namespace["tree_node"]([1, None, 2, 3])
    assert tree.val == 1 and tree.left is None and tree.right.val == 2 and tree.right.left.val == 3
    assert namespace["is_same_tree"](tree, namespace["tree_node"]([1, None, 2, 3]))
    assert not namespace["is_same_tree"](tree, namespace["tree_node"]([1, 2]))
    linked = namespace["list_node"]([1, 2, 3])
    assert namespace["is_same_list"](linked, namespace["list_node"]([1, 2, 3]))
    assert not namespace["is_same_list"](linked, namespace["list_node"]([1, 2]))
    assert namespace["inf"] == float("inf") and "deque" in namespace and "lru_cache" in namespace


def test_parquet_round_trip(tmp_path):
    problems = load_benchmark("aime24") + load_benchmark("humaneval")[:5] + load_benchmark("livecodebench")[:5]
    path = write_problems(problems, tmp_path / "problems.parquet")
    assert read_problems(path) == problems
    assert not list(tmp_path.glob(".*tmp*"))
    again = load_problems(path)  # darl's own schema is a source format too
    assert again == problems
    import datasets

    table = datasets.load_dataset("parquet", data_files=str(path), split="train")
    assert table.num_rows == len(problems) and set(table.column_names) >= {"id", "domain", "tests", "metadata"}


def test_darl_schema_jsonl_and_explicit_format(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [{"id": "a", "domain": "math", "prompt": "1+1?", "answer": "2"},
            {"id": "b", "domain": "code", "prompt": "echo", "tests": {"io": [{"input": "x\n", "output": "x\n"}]}}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    problems = load_problems(path)
    assert [p.id for p in problems] == ["a", "b"] and problems[1].tests.io[0].testtype == "stdin"
    assert problems[0].source == "mine"
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps({"question": "What is 2+2?", "answer": "4"}) + "\n")
    assert load_problems(plain, "math")[0].answer == "4"
    assert load_problems(plain)[0].id == "plain/0"


def test_hub_path_through_datasets(tmp_path):
    """`datasets.load_dataset` with a packaged builder ('json') and local files: the hub code path, offline."""
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"problem": f"What is {i}+{i}?", "answer": str(2 * i)}) + "\n"
                            for i in range(3)))
    loaded = load_source("json", data_files=str(data), split="train", source="hubcopy")
    assert [p.answer for p in loaded.problems] == ["0", "2", "4"]
    assert loaded.problems[0].id == "hubcopy/0"


def test_source_spec_parsing(tmp_path):
    assert SourceSpec.parse("leetcode:some/file.json") == SourceSpec("some/file.json", "leetcode")
    assert SourceSpec.parse("lc=leetcode:f.json") == SourceSpec("f.json", "leetcode", "lc")
    assert SourceSpec.parse("openai/gsm8k") == SourceSpec("openai/gsm8k")
    odd = tmp_path / "a=b.jsonl"
    odd.write_text("")
    assert SourceSpec.parse(str(odd)) == SourceSpec(str(odd))


def test_unknown_columns_and_files(tmp_path):
    with pytest.raises(InputError, match="cannot tell the format"):
        detect_format({"foo": 1, "bar": 2}, "x.jsonl")
    with pytest.raises(InputError, match="no such file"):
        load_problems(tmp_path / "missing.jsonl")
    odd = tmp_path / "data.csv"
    odd.write_text("a,b\n")
    with pytest.raises(InputError, match="unknown file type"):
        load_problems(odd)


def test_registry_is_open(tmp_path):
    from darl.data.loaders import LoadedSource, register_loader
    from darl.records import Problem

    def counting_tasks(location, *, source, skip_invalid, **options):
        count = int(location)
        problems = [Problem(id=f"count/{i}", domain="math", prompt=f"What is {i}+1?", answer=str(i + 1))
                    for i in range(count)]
        return LoadedSource(location, "counting", source or "count", problems, rows_read=count)

    register_loader("counting", counting_tasks)
    try:
        assert len(load_problems("3", "counting")) == 3
        assert SourceSpec.parse("counting:5").format == "counting"
    finally:
        loaders.LOADERS.pop("counting")


def test_livecodebench_hub_shape(tmp_path):
    """The hub copy's shape: tests as JSON text, func_name inside a JSON `metadata` column."""
    row = {"question_id": "9", "question_title": "t", "question_content": "Add two numbers.", "platform": "leetcode",
           "contest_date": "2024-09-01T00:00:00", "difficulty": "easy",
           "starter_code": "class Solution:\n    def add(self, a: int, b: int) -> int:\n        ",
           "public_test_cases": json.dumps([{"input": "1\n2", "output": "3", "testtype": "functional"}]),
           "private_test_cases": "eJz...", "metadata": json.dumps({"func_name": "add"})}
    path = tmp_path / "lcb.jsonl"
    path.write_text(json.dumps(row) + "\n")
    problem = load_problems(path)[0]
    assert problem.tests.func_name == "add" and problem.tests.io[0].input == "1\n2"
    assert problem.id == "lcb/9" and problem.metadata["contest_date"].startswith("2024-09-01")

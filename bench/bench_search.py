"""Benchmark the store: full-text search over 100,000 messages and a 5,000-message active path.

Builds a temporary file database with deterministic, varied text (prose on several topics, code
blocks, lists, numbers, accented words), then prints JSON figures. Never passes or fails on time.

    /tmp/venv/bin/python bench/bench_search.py [--messages 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from assistant_app.core.store import Store

TOPICS: dict[str, list[str]] = {
    "python": ["python", "function", "decorator", "generator", "asyncio", "coroutine", "dataclass", "typing",
               "exception", "traceback", "virtualenv", "pytest", "fixture", "import", "module", "iterator"],
    "cooking": ["recipe", "garlic", "butter", "simmer", "roast", "oven", "sourdough", "yeast", "flour",
                "tomato", "basil", "risotto", "caramelize", "marinade", "crème", "brûlée"],
    "travel": ["itinerary", "flight", "passport", "Reykjavík", "glacier", "hostel", "train", "Kyoto",
               "temple", "visa", "luggage", "layover", "museum", "Zürich", "ferry", "hiking"],
    "finance": ["budget", "mortgage", "interest", "inflation", "portfolio", "dividend", "index", "bond",
                "savings", "pension", "invoice", "tax", "deduction", "spreadsheet", "forecast", "ledger"],
    "science": ["photon", "entropy", "enzyme", "protein", "quantum", "neutron", "gravity", "orbit",
                "telescope", "genome", "catalyst", "molecule", "voltage", "spectrum", "isotope", "plasma"],
    "sql": ["sqlite", "index", "query", "transaction", "migration", "schema", "trigger", "join",
            "cursor", "vacuum", "journal", "postgres", "constraint", "foreign", "primary", "table"],
}  # fmt: skip
# fmt: off
COMMON = [
    "the", "a", "an", "and", "or", "but", "so", "because", "when", "while", "if", "then", "this", "that",
    "these", "those", "it", "is", "are", "was", "were", "be", "been", "have", "has", "had", "do", "does",
    "can", "could", "should", "would", "will", "may", "might", "must", "not", "no", "yes", "very", "quite",
    "just", "also", "only", "still", "already", "about", "into", "over", "under", "between", "through",
    "after", "before", "I", "you", "we", "they", "he", "she", "my", "your", "our", "their", "what", "which",
    "who", "how", "why", "where",
]
VERBS = [
    "explain", "show", "compare", "fix", "write", "check", "improve", "summarize", "translate", "convert",
    "plan", "estimate", "debug",
]
# fmt: on
CODE = [
    "```python\ndef {w}(items):\n    return [x for x in items if x]\n```",
    "```sql\nSELECT id, {w} FROM t WHERE {w} > ? ORDER BY id;\n```",
    "```bash\nfor f in *.txt; do grep -n '{w}' \"$f\"; done\n```",
    "```js\nconst {w} = async () => await fetch('/api/{w}');\n```",
    "```c++\nstd::vector<int> {w}; {w}.reserve(64);\n```",
]
TITLES = ["Help with {a}", "{A} and {b}", "Questions about {a}", "{A} notes", "Planning: {a}", "Why {a}?"]


def _sentence(rng: random.Random, words: list[str]) -> str:
    n = rng.randint(6, 18)
    parts = [rng.choice(words) if rng.random() < 0.35 else rng.choice(COMMON) for _ in range(n)]
    if rng.random() < 0.15:
        parts.insert(rng.randrange(len(parts)), str(rng.randint(2, 2048)))
    return parts[0].capitalize() + " " + " ".join(parts[1:]) + rng.choice([".", ".", ".", "?", "!"])


def _message_text(rng: random.Random, role: str, topic: str) -> str:
    words = TOPICS[topic]
    if role == "user":
        return f"{rng.choice(VERBS).capitalize()} {' '.join(rng.sample(words, 2))}. " + _sentence(rng, words)
    paragraphs = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.2:
            paragraphs.append(rng.choice(CODE).format(w=rng.choice(words).replace("é", "e").replace("û", "u")))
        elif kind < 0.35:
            paragraphs.append("\n".join(f"- {_sentence(rng, words)}" for _ in range(rng.randint(2, 5))))
        else:
            paragraphs.append(" ".join(_sentence(rng, words) for _ in range(rng.randint(1, 5))))
    return "\n\n".join(paragraphs)


def _items(rng: random.Random, topic: str, count: int, start: float) -> Iterator[dict[str, Any]]:
    for i in range(count):
        role = "user" if i % 2 == 0 else "assistant"
        yield {
            "role": role,
            "content": _message_text(rng, role, topic),
            "created_at": start + i,
            "model": None if role == "user" else "gpt-4o-mini",
        }


def build(store: Store, total: int, seed: int) -> dict[str, Any]:
    """Fill ``store`` with ``total`` messages; one conversation holds 5,000 of them."""
    rng = random.Random(seed)
    topics = list(TOPICS)
    t0 = time.perf_counter()
    made = 0
    long_conv = None
    start = 1_700_000_000.0
    with store.transaction():
        long_size = min(5000, total)
        long_conv = store.create_conversation("Long running project log", model="gpt-4o")
        store.add_messages(long_conv.id, _items(rng, "python", long_size, start))
        made += long_size
        while made < total:
            topic = rng.choice(topics)
            a, b = rng.sample(TOPICS[topic], 2)
            title = rng.choice(TITLES).format(a=a, b=b, A=a.capitalize())
            conv = store.create_conversation(title)
            size = min(total - made, rng.randint(4, 80))
            ids = store.add_messages(conv.id, _items(rng, topic, size, start + made))
            made += size
            if size > 6 and rng.random() < 0.2 and made < total:  # an edited branch
                store.add_messages(conv.id, _items(rng, topic, 2, start + made), parent_id=ids[size // 2])
                made += 2
    return {"build_s": round(time.perf_counter() - t0, 2), "long_conversation_id": long_conv.id}


# fmt: off
QUERIES = [
    # single common topic words
    "python", "garlic", "mortgage", "quantum", "sqlite", "itinerary", "telescope", "budget", "yeast",
    "transaction",
    # prefixes (the search is prefix-based; short ones match a lot)
    "py", "gen", "tr", "qua", "mort", "cara", "s",
    # several words
    "python decorator", "garlic butter oven", "flight passport visa", "index query join",
    "quantum photon spectrum entropy", "explain the mortgage interest",
    "sourdough yeast flour temple",  # mixed topics: few or no hits
    # accents / folding
    "reykjavik", "Zürich", "creme brulee",
    # code-ish
    "std::vector", "c++", "SELECT id", "fetch('/api", "grep -n", "async", "def",
    # numbers
    "2048", "64", "1999",
    # titles
    "Help with", "notes", "Planning",
    # no hits
    "xylophone", "zzzzzz", "quokka platypus",
    # hostile / syntax
    '"', "AND", "*", "foo OR", "NEAR(", "title:python", "^start", "-x", "(budget",
    # fallback substring scan (no indexable characters)
    "🎉", "...",
]
# fmt: on


def _timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def _summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(p95, 3),
        "max_ms": round(ordered[-1], 3),
        "n": len(ordered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (the median run is kept)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        db = Path(tmp) / "bench.sqlite3"
        store = Store(db)
        info = build(store, args.messages, args.seed)
        store.close()

        t0 = time.perf_counter()
        store = Store(db)  # reopen: migrations check + crash recovery on a full database
        open_ms = (time.perf_counter() - t0) * 1000.0

        per_query: dict[str, dict[str, float]] = {}
        medians: list[float] = []
        fts_medians: list[float] = []
        for q in QUERIES:
            store.search(q)  # warm
            runs = _timed(lambda q=q: store.search(q), args.repeat)
            med = statistics.median(runs)
            hits = len(store.search(q))
            per_query[q] = {"median_ms": round(med, 3), "hits": hits}
            medians.append(med)
            if q not in ("🎉", "..."):
                fts_medians.append(med)

        counts = {"messages": store.count_messages(), "conversations": store.count_conversations()}
        conv_id = info["long_conversation_id"]
        path_len = len(store.active_path(conv_id))
        active_path = _summary(_timed(lambda: store.active_path(conv_id), 20))
        path_ids = _summary(_timed(lambda: store.active_path_ids(conv_id), 20))
        head = store.get_conversation(conv_id).head_id
        root = store.active_path(conv_id)[0].id
        switch = _summary(_timed(lambda: store.switch_to(root), 20))
        store.set_head(conv_id, head)

        # The streaming save path: one content update of a growing reply (FTS trigger included).
        conv = store.create_conversation("bench stream")
        msg = store.add_message(conv.id, "assistant", "", parent_id=None, status="streaming")
        text = _message_text(random.Random(1), "assistant", "science") * 4
        step = max(1, len(text) // 50)
        save_runs = [
            t
            for i in range(1, 51)
            for t in _timed(lambda i=i: store.update_message(msg.id, content=text[: i * step]), 1)
        ]
        listing = _summary(_timed(lambda: store.list_conversations(limit=50), 20))
        result = {
            **counts,
            "db_size_mb": round(db.stat().st_size / 1e6, 1),
            "build_s": info["build_s"],
            "open_ms": round(open_ms, 3),
            "search_all_queries": {**_summary(medians), "queries": len(QUERIES)},
            "search_fts_only": _summary(fts_medians),
            "active_path_5000": {**active_path, "length": path_len},
            "active_path_ids_5000": path_ids,
            "switch_to_root_of_5000": switch,
            "update_message_streaming_save": _summary(save_runs),
            "list_conversations_50": listing,
            "per_query": per_query,
        }
        store.close()
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

"""Plots bench-results/*.jsonl (written by scripts/bench.sh) into bench-results/throughput.png."""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def main(out):
    out = Path(out)
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for name, style in (("embedded", "o-"), ("kafka", "s-")):
        series = [r for r in rows(out / f"{name}.jsonl") if r["mode"] == "terminal"]
        axes[0].plot([r["concurrency"] for r in series], [r["exceptions_per_second"] for r in series], style, label=name)
    axes[0].set(title="Throughput vs CONCURRENCY (one process)", xlabel="CONCURRENCY", ylabel="exceptions/s")
    axes[0].legend()
    instances = rows(out / "instances.jsonl")
    axes[1].plot(range(1, len(instances) + 1), [r["exceptions_per_second"] for r in instances], "s-")
    axes[1].set(title="Throughput vs worker processes (Kafka + Postgres)", xlabel="processes", ylabel="exceptions/s")
    # Labels read "<bus> load=<share of the maximum>": plot against the offered share.
    for name, bus, marker in (("latency", "embedded", "o"), ("kafka-latency", "kafka", "s")):
        latency = rows(out / f"{name}.jsonl")
        offered = [float(r["label"].rsplit("=", 1)[-1]) for r in latency]
        for key, line in (("latency_ms_p50", "-"), ("latency_ms_p99", "--")):
            label = f"{bus} {key.split('_')[-1]}"
            axes[2].plot(offered, [r[key] for r in latency], marker + line, label=label)
    axes[2].axhline(100, color="grey", linewidth=0.8, linestyle=":")
    axes[2].set(title="Latency vs load (CONCURRENCY=4)", xlabel="offered load (share of the measured maximum)", ylabel="ingest-to-terminal ms")
    axes[2].legend()
    figure.tight_layout()
    figure.savefig(out / "throughput.png", dpi=110)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench-results")

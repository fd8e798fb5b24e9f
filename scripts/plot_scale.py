"""Plots bench-results/scale.jsonl (written by scripts/scale.sh): throughput and CPU per
exception of each process against the number of worker processes."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(source, target):
    rows = [json.loads(line) for line in open(source) if line.strip()]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    processes = [row["processes"] for row in rows]
    rates = [row["bench"]["exceptions_per_second"] for row in rows]
    base = rates[processes.index(1)] if 1 in processes else rates[0]
    axes[0].plot(processes, rates, "s-", label="measured")
    axes[0].plot(processes, [base * p for p in processes], ":", color="grey", label="linear")
    axes[0].set(title="Throughput vs processes (1/4 core each)", xlabel="worker processes", ylabel="exceptions/s through policy")
    axes[0].legend()
    for row in rows:
        costs = [1000 * p["cpu_seconds"] / (p["events"] / 3) for p in row["per_process"] if p["events"] > 0]
        axes[1].plot([row["processes"]] * len(costs), costs, "o", color="tab:blue")
    axes[1].set(title="CPU per exception of each process", xlabel="worker processes", ylabel="CPU ms per exception")
    figure.tight_layout()
    figure.savefig(target, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""`sirocco serve`'s aggregate generation speed with concurrent clients, --parallel 1 against N.

    scripts/bench_serve_parallel.py --model M.gguf [--sirocco .build/release/sirocco]
        [--parallel 1 4] [--clients 1 2 4] [--requests 3] [-n 128] [--threads 2] [--rounds 2]

For every --parallel value a server is started (`sirocco serve --port 0 --parallel P`); C clients
(threads) each send --requests chat completions one after another, greedy (temperature 0), at most
-n tokens, each asking for a different small Python function, so the answers are code of similar
length. Aggregate tokens/s = completion tokens of all requests (the server's `usage`) / wall time
from the first request sent to the last answer received: prompt reading and HTTP included, as a
user of the server sees it. Every round measures every (P, C) pair, servers alternating; the
medians over the rounds are printed as one JSON object with each value's ratio to P = first
value, C = 1. One warm-up request per server is not counted.
"""
import argparse
import json
import statistics
import subprocess
import threading
import time
import urllib.request

TASKS = [
    "reverses a string", "checks whether a number is prime", "merges two sorted lists",
    "counts the words in a text", "flattens a nested list", "computes a factorial iteratively",
    "removes duplicates from a list keeping order", "returns the n-th Fibonacci number",
    "parses a date in ISO format", "finds the longest common prefix of strings",
    "transposes a matrix", "validates an email address with a regular expression",
]


def post(port, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as reply:
        return json.load(reply)


def start_server(sirocco, model, parallel, threads):
    process = subprocess.Popen([sirocco, "serve", "--model", model, "--port", "0", "--parallel", str(parallel),
                                "--threads", str(threads)], stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    if "http://" not in line:
        process.kill()
        raise SystemExit(f"the server did not start: {line.strip()}")
    port = int(line.split("http://")[1].split("/")[0].rsplit(":", 1)[1])
    return process, port


def measure(port, clients, requests, n):
    tokens = [0] * clients

    def client(c):
        for r in range(requests):
            task = TASKS[(c * requests + r) % len(TASKS)]
            reply = post(port, {"messages": [{"role": "user", "content": f"Write a Python function that {task}."}],
                                "max_tokens": n, "temperature": 0})
            tokens[c] += reply["usage"]["completion_tokens"]

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(tokens) / (time.monotonic() - t0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--sirocco", default=".build/release/sirocco")
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("-n", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    rates = {(p, c): [] for p in args.parallel for c in args.clients}
    for _ in range(args.rounds):
        for p in args.parallel:
            process, port = start_server(args.sirocco, args.model, p, args.threads)
            try:
                post(port, {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8, "temperature": 0})
                for c in args.clients:
                    rates[(p, c)].append(measure(port, c, args.requests, args.n))
            finally:
                process.terminate()
                process.wait()
    base = statistics.median(rates[(args.parallel[0], 1)]) if 1 in args.clients else None
    result = {"model": args.model, "threads": args.threads, "n": args.n, "requests_per_client": args.requests,
              "rounds": args.rounds, "tokens_per_second": {}, "ratio_to_first_parallel_one_client": {}}
    for (p, c), values in rates.items():
        key = f"parallel {p}, clients {c}"
        result["tokens_per_second"][key] = round(statistics.median(values), 2)
        if base:
            result["ratio_to_first_parallel_one_client"][key] = round(statistics.median(values) / base, 2)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks `sirocco serve` with the official OpenAI Python client (pip install openai).

Starts the server on a free port with an API key, then: the model list; chat and text completions
whole and streamed (greedy, so both give the same text); an unknown model raising
openai.NotFoundError and a wrong key openai.AuthenticationError; and a load test of CLIENTS
threads x REQUESTS short chat requests. Prints the count, errors, p50/p95/max latency and the
longest queue wait (the server's x-sirocco-queue-wait-ms header). Exits non-zero on any error.

Usage: scripts/check_serve_openai.py [--sirocco PATH] [--model NAME|PATH] [--clients 4] [--requests 20]
"""

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time

import openai


def start_server(args, key):
    env = dict(os.environ, SIROCCO_CHECK_KEY=key)
    command = [args.sirocco, "serve", "--port", "0", "--model", args.model, "--api-key-env", "SIROCCO_CHECK_KEY",
               "--ctx-size", "2048", "--max-queue", str(args.clients * 2)]
    server = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    line = server.stderr.readline()  # the startup line, or the error that stopped it
    if not line.startswith("sirocco serve: http://"):
        server.wait(timeout=30)
        sys.exit(f"the server did not start: {line.strip()} (exit {server.returncode})")
    print(line.strip())
    base = line.split()[2]
    threading.Thread(target=server.stderr.read, daemon=True).start()  # keep the pipe drained
    return server, base


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def check_api(client, model):
    ids = [m.id for m in client.models.list()]
    assert model in ids, f"{model} not in {ids}"
    print(f"models: {ids}")

    messages = [{"role": "user", "content": "What is the capital of France?"}]
    whole = client.chat.completions.create(model=model, messages=messages, temperature=0, max_tokens=24)
    text = whole.choices[0].message.content
    streamed = "".join(chunk.choices[0].delta.content or ""
                       for chunk in client.chat.completions.create(model=model, messages=messages, temperature=0,
                                                                   max_tokens=24, stream=True)
                       if chunk.choices)
    assert text and text == streamed, f"chat: whole {text!r} != streamed {streamed!r}"
    assert whole.usage.completion_tokens > 0 and whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens
    print(f"chat: whole == streamed ({whole.usage.completion_tokens} tokens, finish {whole.choices[0].finish_reason}): {text!r}")

    usage_chunks = [c for c in client.chat.completions.create(model=model, messages=messages, max_tokens=4, stream=True,
                                                              stream_options={"include_usage": True}) if c.usage]
    assert len(usage_chunks) == 1 and usage_chunks[0].usage.completion_tokens == 4, usage_chunks

    prompt = "The three primary colors are"
    done = client.completions.create(model=model, prompt=prompt, temperature=0, max_tokens=16)
    pieces = "".join(c.choices[0].text for c in client.completions.create(model=model, prompt=prompt, temperature=0,
                                                                           max_tokens=16, stream=True) if c.choices)
    assert done.choices[0].text == pieces, f"completions: whole {done.choices[0].text!r} != streamed {pieces!r}"
    print(f"completions: whole == streamed: {pieces!r}")

    try:
        client.chat.completions.create(model="no-such-model", messages=messages, max_tokens=4)
        raise AssertionError("an unknown model was answered")
    except openai.NotFoundError as e:
        assert e.status_code == 404 and e.code == "model_not_found", e
        print(f"unknown model: openai.NotFoundError ({e.status_code}, {e.code})")

    wrong = openai.OpenAI(base_url=client.base_url, api_key="wrong-key", max_retries=0)
    try:
        wrong.models.list()
        raise AssertionError("a wrong key was accepted")
    except openai.AuthenticationError as e:
        print(f"wrong key: openai.AuthenticationError ({e.status_code})")


def load_test(client, model, clients, requests):
    latencies, waits, errors = [], [], []
    lock = threading.Lock()

    def worker(n):
        for i in range(requests):
            start = time.monotonic()
            try:
                raw = client.chat.completions.with_raw_response.create(
                    model=model, max_tokens=8, temperature=0.7, seed=n * 1000 + i,
                    messages=[{"role": "user", "content": f"Name a colour. ({n}.{i})"}])
                answer = raw.parse()
                assert answer.choices[0].finish_reason in ("stop", "length")
                wait = int(raw.headers.get("x-sirocco-queue-wait-ms", "-1"))
                with lock:
                    latencies.append(time.monotonic() - start)
                    waits.append(wait)
            except Exception as e:  # noqa: BLE001 - every failure counts
                with lock:
                    errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    count = len(latencies) + len(errors)
    print(f"load: {count} requests from {clients} threads in {elapsed:.1f} s, errors: {len(errors)}")
    if latencies:
        print(f"latency: p50 {percentile(latencies, 50):.3f} s, p95 {percentile(latencies, 95):.3f} s, "
              f"max {max(latencies):.3f} s, mean {statistics.mean(latencies):.3f} s")
        print(f"queue wait: max {max(waits)} ms, p50 {percentile(waits, 50)} ms")
    for e in errors[:5]:
        print(f"  error: {e}")
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    built = [os.path.join(root, d, "release", "sirocco") for d in (".build", ".build-test")]
    parser.add_argument("--sirocco", default=next((b for b in built if os.path.exists(b)), "sirocco"),
                        help="the sirocco binary (default: this checkout's release build, else sirocco on PATH)")
    parser.add_argument("--model", default="smollm2:135m", help="a catalog name or a GGUF file")
    parser.add_argument("--clients", type=int, default=4, help="threads of the load test")
    parser.add_argument("--requests", type=int, default=20, help="requests per thread")
    args = parser.parse_args()

    key = secrets.token_hex(16)
    server, base = start_server(args, key)
    try:
        client = openai.OpenAI(base_url=base, api_key=key, max_retries=0, timeout=300)
        model = args.model if ":" in args.model and not os.path.exists(args.model) else os.path.basename(args.model)
        check_api(client, model)
        errors = load_test(client, model, args.clients, args.requests)
    finally:
        server.send_signal(signal.SIGTERM)
        status = server.wait(timeout=60)
    print(f"server stopped: exit {status}")
    if errors or status != 0:
        sys.exit(1)


if __name__ == "__main__":
    main()

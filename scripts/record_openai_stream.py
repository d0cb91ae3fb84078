#!/usr/bin/env python3
"""Records llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) answering one chat request,
streamed and not, as the fixtures of Sirocco's remote-backend tests (the raw server-sent-event bytes
and the JSON body, so the Swift tests need no Python).

    scripts/record_openai_stream.py MODEL.gguf OUT_DIR
"""
import json, os, socket, subprocess, sys, time, urllib.request

model, out = sys.argv[1], sys.argv[2]
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", model, "--port", str(port),
                           "--host", "127.0.0.1", "--n_ctx", "512", "--verbose", "False"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    base = f"http://127.0.0.1:{port}/v1"
    for _ in range(120):
        try:
            models = json.load(urllib.request.urlopen(base + "/models", timeout=1))
            break
        except OSError:
            time.sleep(0.5)
    else:
        sys.exit("the server did not start")
    request = {"model": models["data"][0]["id"], "temperature": 0, "max_tokens": 24, "seed": 1,
               "messages": [{"role": "system", "content": "You are brief."},
                            {"role": "user", "content": "Name three colours."}]}
    os.makedirs(out, exist_ok=True)
    json.dump(models, open(os.path.join(out, "models.json"), "w"), indent=1)
    for stream in (False, True):
        body = dict(request, stream=stream)
        req = urllib.request.Request(base + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        raw = urllib.request.urlopen(req, timeout=60).read()
        name = "chat-stream.sse" if stream else "chat.json"
        open(os.path.join(out, name), "wb").write(raw)
        print(name, len(raw), "bytes")
finally:
    server.terminate()
    server.wait()

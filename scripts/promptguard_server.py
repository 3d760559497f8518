#!/usr/bin/env python3
"""A /predict server in text-embeddings-inference's format for a Hugging Face
sequence classifier (Meta's Llama Prompt Guard 2 by default), for rampart's
escalation layer (api: tei). Needs: pip install transformers torch fastapi uvicorn,
and, for a gated model, HF_TOKEN after accepting its licence on Hugging Face.

    python3 scripts/promptguard_server.py --model meta-llama/Llama-Prompt-Guard-2-86M --port 8080
"""
import argparse

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from transformers import pipeline

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="meta-llama/Llama-Prompt-Guard-2-86M")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8080)
args = parser.parse_args()

classify = pipeline("text-classification", model=args.model, top_k=None, truncation=True)
app = FastAPI()


class Predict(BaseModel):
    inputs: str
    truncate: bool = True


@app.post("/predict")
def predict(req: Predict):
    # one input: [{"label": ..., "score": ...}, ...] for every class
    return [{"label": p["label"], "score": float(p["score"])} for p in classify([req.inputs])[0]]


uvicorn.run(app, host=args.host, port=args.port)

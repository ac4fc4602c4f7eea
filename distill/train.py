"""The HPD recipe: MSE between the student's Dense(tanh) output and PCA-projected teacher vectors."""

import copy
import math
import os
import sys
import time

import torch

from .safe_pickle import read_archive


def _clock(seconds):
    seconds = int(seconds)
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else f"{seconds // 60}:{seconds % 60:02d}"
    )


class Progress:
    """A plain stderr bar with rate and ETA (redrawn in place on a terminal, one line per ~2 s otherwise): no tqdm."""

    def __init__(self, total, label, unit="sentences"):
        self.total, self.label, self.unit, self.tty = total, label, unit, sys.stderr.isatty()
        self.t0 = self.last = time.time()

    def update(self, done, items, extra=""):
        now = time.time()
        if not self.tty and now - self.last < 2 and done < self.total:
            return
        self.last = now
        elapsed = max(now - self.t0, 1e-9)
        rate = items / elapsed
        eta = elapsed / max(done, 1e-9) * (self.total - done)
        filled = int(30 * done / max(self.total, 1))
        line = f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total}{extra} {rate:.1f} {self.unit}/s ETA {_clock(eta)}"
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        if self.tty and done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def warmup_linear(warmup, total):
    """sentence-transformers' WarmupLinear: linear rise over `warmup` steps, then linear decay to 0."""

    def f(step):
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return f


@torch.no_grad()
def val_mse(model, tok, texts, targets, batch, device):
    model.eval()
    total, n = 0.0, 0
    for s in range(0, len(texts), batch):
        ids, mask = tok.batch(texts[s : s + batch])
        y = torch.from_numpy(targets[s : s + batch]).to(device)
        out = model(ids.to(device), mask.to(device)).float()
        total += float(((out - y) ** 2).mean(1).sum())
        n += len(y)
    return total / max(n, 1)


def grad_scaler(enabled):
    """torch.amp.GradScaler("cuda") where it exists (torch >= 2.3 deprecates torch.cuda.amp.GradScaler); 1.13 has only the latter."""
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


def param_groups(model, weight_decay):
    """Weight decay on weight matrices only: none on biases and LayerNorm, as sentence-transformers' fit does."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if "bias" in name or "LayerNorm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model, cfg):
    return torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr, eps=cfg.adam_eps)


def _rng_state():
    return {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def _set_rng_state(state):
    torch.set_rng_state(state["cpu"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])


class _Tokenized(torch.utils.data.Dataset):
    """Batch i -> (row indices, input_ids, attention_mask): tokenisation for DataLoader workers."""

    def __init__(self, batches, tok, texts):
        self.batches, self.tok, self.texts = batches, tok, texts

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, i):
        idx = self.batches[i]
        return (idx, *self.tok.batch([self.texts[j] for j in idx]))


def _batches(batches, tok, texts, workers, pin):
    """The epoch's batches, tokenised in `workers` processes ahead of the loop (in order), or inline with 0."""
    data = _Tokenized(batches, tok, texts)
    if not workers:
        return (data[i] for i in range(len(data)))
    return torch.utils.data.DataLoader(
        data,
        batch_size=None,
        shuffle=False,
        num_workers=workers,
        pin_memory=pin,
        prefetch_factor=4,
        generator=torch.Generator(),  # its seed draw must leave the global RNG (dropout masks) untouched
    )


def train(model, tok, train_data, val_data, cfg, device="cpu", log=print, checkpoints=None, evaluate=None):
    """Trains in place on (texts, targets) with cfg's recipe (AdamW without decay on biases/LayerNorm, gradient
    clipping, warmup-linear, validation each epoch and every cfg.val_every steps); loads the best (lowest validation
    MSE) weights at the end and returns (history, best). `checkpoints` (train.Checkpoints) saves and resumes;
    `evaluate(model)` adds its metrics (e.g. STS Spearman) to every validation."""
    (texts, targets), (val_texts, val_targets) = train_data, val_data
    epochs, batch = cfg.epochs, cfg.batch
    model.to(device)
    g = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = math.ceil(len(texts) / batch)
    total = steps_per_epoch * epochs
    if cfg.warmup > total:
        log(
            f"warning: --warmup {cfg.warmup} steps is longer than the whole run ({total} steps): the learning rate never reaches --lr {cfg.lr}"
        )
    opt = make_optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_linear(cfg.warmup, total))
    amp = device.startswith("cuda")
    scaler = grad_scaler(amp)
    y_all = torch.from_numpy(targets)
    state = checkpoints.load() if checkpoints is not None and cfg.resume else None

    def measure():
        m = {"val_mse": val_mse(model, tok, val_texts, val_targets, batch, device)}
        if evaluate is not None:
            m.update(evaluate(model))
        return m

    def describe(m):
        sts = f", STS Spearman {m['sts_spearman']:.4f}" if "sts_spearman" in m else ""
        return f"validation MSE {m['val_mse']:.6f}{sts}"

    if state is None:
        history = [{"epoch": 0, "step": 0, **measure()}]
        log(f"epoch 0 (untrained): {describe(history[0])}")
        best, best_state, step, perm = history[0]["val_mse"], copy.deepcopy(model.state_dict()), 0, None
    else:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        g.set_state(state["generator"])
        _set_rng_state(state["rng"])
        history, best, best_state, step, perm = (
            state["history"],
            state["best"],
            state["best_state"],
            state["step"],
            state["perm"],
        )
        log(f"resumed from {checkpoints.path} at step {step} of {total}")

    def validate(label, extra):
        nonlocal best, best_state
        history.append({**extra, "step": step, **measure()})
        mse = history[-1]["val_mse"]
        log(f"{label}: {describe(history[-1])}" + (" (best so far)" if mse < best else ""))
        if mse < best:
            best, best_state = mse, copy.deepcopy(model.state_dict())
        model.train()

    while step < total:
        epoch, k0 = step // steps_per_epoch + 1, step % steps_per_epoch
        if k0 == 0 or perm is None:
            perm = torch.randperm(len(texts), generator=g)
        model.train()
        bar, seen, t0, train_loss = Progress(steps_per_epoch, f"epoch {epoch}/{epochs}"), 0, time.time(), 0.0
        batches = [perm[k * batch : (k + 1) * batch].tolist() for k in range(k0, steps_per_epoch)]
        for k, (idx, ids, mask) in enumerate(_batches(batches, tok, texts, cfg.workers, amp), k0):
            y = y_all[idx].to(device, non_blocking=amp)
            with torch.autocast(device_type="cuda", dtype=torch.float16, enabled=amp):
                out = model(ids.to(device, non_blocking=amp), mask.to(device, non_blocking=amp))
            loss = torch.nn.functional.mse_loss(out.float(), y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            scaler.step(opt)
            scaler.update()
            sched.step()
            step += 1
            seen += len(idx)
            train_loss = float(loss)
            bar.update(k + 1 - k0, seen, f" loss {train_loss:.6f}")
            if cfg.val_every and step % cfg.val_every == 0 and k + 1 < steps_per_epoch:
                validate(f"step {step}", {"epoch": epoch - 1 + (k + 1) / steps_per_epoch})
            if checkpoints is not None and cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                checkpoints.save(
                    {
                        "model": model.state_dict(),
                        "optimizer": opt.state_dict(),
                        "scheduler": sched.state_dict(),
                        "scaler": scaler.state_dict(),
                        "generator": g.get_state(),
                        "rng": _rng_state(),
                        "history": history,
                        "best": best,
                        "best_state": best_state,
                        "step": step,
                        "perm": perm,
                    }
                )
            if cfg.stop_after and step >= cfg.stop_after:
                log(f"stopping after step {step} (--stop-after); --resume continues from the last checkpoint")
                return None, None
        rate = seen / max(time.time() - t0, 1e-9)
        validate(f"epoch {epoch}", {"epoch": epoch, "train_loss": train_loss, "sentences_per_s": rate})
    model.load_state_dict(best_state)
    return history, best


class Checkpoints:
    """One checkpoint file, replaced atomically; read back through the allow-listed unpickler (distill/safe_pickle)."""

    def __init__(self, folder, fingerprint):
        self.folder, self.fingerprint = folder, fingerprint
        self.path = os.path.join(folder, "checkpoint.pt")

    def save(self, state):
        os.makedirs(self.folder, exist_ok=True)
        tmp = self.path + ".tmp"
        torch.save({**state, "fingerprint": self.fingerprint}, tmp)
        os.replace(tmp, self.path)

    def load(self):
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"--resume: no checkpoint at {self.path}")
        state = read_archive(self.path)
        if state.get("fingerprint") != self.fingerprint:
            raise ValueError(
                f"--resume: {self.path} was written by a run with other inputs or settings; start afresh without --resume"
            )
        return state

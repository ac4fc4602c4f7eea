"""The HPD recipe: MSE between the student's Dense(tanh) output and PCA-projected teacher vectors."""

import copy
import math
import sys
import time

import torch


class Progress:
    """A plain stderr bar (redrawn in place on a terminal, one line per ~2 s otherwise): no tqdm dependency."""

    def __init__(self, total, label):
        self.total, self.label, self.tty = total, label, sys.stderr.isatty()
        self.t0 = self.last = time.time()

    def update(self, done, loss, sentences):
        now = time.time()
        if not self.tty and now - self.last < 2 and done < self.total:
            return
        self.last = now
        rate = sentences / max(now - self.t0, 1e-9)
        filled = int(30 * done / max(self.total, 1))
        line = f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} loss {loss:.6f} {rate:.1f} sentences/s"
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


def train(model, tok, train_data, val_data, cfg, device="cpu", log=print):
    """Trains in place on (texts, targets) with cfg's recipe; returns the history and loads the best (lowest
    validation MSE) weights at the end."""
    (texts, targets), (val_texts, val_targets) = train_data, val_data
    epochs, batch, seed = cfg.epochs, cfg.batch, cfg.seed
    model.to(device)
    g = torch.Generator().manual_seed(seed)
    steps_per_epoch = math.ceil(len(texts) / batch)
    total = steps_per_epoch * epochs
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_linear(cfg.warmup, total))
    amp = device.startswith("cuda")
    scaler = grad_scaler(amp)
    history = [{"epoch": 0, "val_mse": val_mse(model, tok, val_texts, val_targets, batch, device)}]
    log(f"epoch 0 (untrained): validation MSE {history[0]['val_mse']:.6f}")
    best, best_state = history[0]["val_mse"], copy.deepcopy(model.state_dict())
    y_all = torch.from_numpy(targets)
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(texts), generator=g).tolist()
        bar, seen, t0, train_loss = Progress(steps_per_epoch, f"epoch {epoch}/{epochs}"), 0, time.time(), 0.0
        for step in range(steps_per_epoch):
            idx = perm[step * batch : (step + 1) * batch]
            ids, mask = tok.batch([texts[i] for i in idx])
            y = y_all[idx].to(device)
            with torch.autocast(device_type="cuda", dtype=torch.float16, enabled=amp):
                out = model(ids.to(device), mask.to(device))
            loss = torch.nn.functional.mse_loss(out.float(), y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            seen += len(idx)
            train_loss = float(loss)
            bar.update(step + 1, train_loss, seen)
        mse = val_mse(model, tok, val_texts, val_targets, batch, device)
        history.append(
            {
                "epoch": epoch,
                "val_mse": mse,
                "train_loss": train_loss,
                "sentences_per_s": seen / max(time.time() - t0, 1e-9),
            }
        )
        log(f"epoch {epoch}: validation MSE {mse:.6f} ({seen / max(time.time() - t0, 1e-9):.1f} sentences/s)")
        if mse < best:
            best, best_state = mse, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return history, best

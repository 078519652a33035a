/** A one-line progress bar on a TTY; silent elsewhere so logs and pipes stay clean. */
export interface ProgressView {
  update(done: number, total: number, detail?: string): void;
  finish(message?: string): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${sec}s`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

export function progressBar(
  stream: NodeJS.WriteStream = process.stderr,
  label = '',
  width = 30,
): ProgressView {
  const enabled = stream.isTTY === true;
  let lastDraw = 0;
  return {
    update(done, total, detail = '') {
      if (!enabled) return;
      const now = Date.now();
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * width);
      const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
      stream.write(`\r${label}[${bar}] ${(fraction * 100).toFixed(1)}% ${detail}\x1b[K`);
    },
    finish(message = '') {
      if (!enabled) return;
      stream.write(`\r\x1b[K${message}${message ? '\n' : ''}`);
    },
  };
}

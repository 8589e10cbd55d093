/**
 * Chromium's renderer memory as Linux sees it, for the studio's memory target (issue 14: ≤ 2 GiB in
 * the worker). A dedicated worker runs in its page's renderer process, so the renderer's peak
 * resident set (VmHWM in /proc/PID/status) bounds what the worker held, page included.
 * performance.measureUserAgentSpecificMemory needs cross-origin isolation and gives no peak;
 * CDP's Performance.getMetrics sees only the page's JS heap, not the worker's wasm memory.
 * The browser is a descendant of this Playwright worker process (launched by it), so its renderers
 * are found by walking /proc from process.pid; no other browser's processes are read.
 */
import { readdirSync, readFileSync } from 'node:fs';

function parentOf(pid: number): number | null {
  try {
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null; // exited meanwhile
  }
}

function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent === null) continue;
    children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** kB field of /proc/PID/status as bytes, or null when the process is gone. */
function statusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The largest peak resident set (bytes) among this test's Chromium renderer processes; 0 if none. */
export function rendererPeakBytes(): number {
  let peak = 0;
  for (const pid of descendantsOf(process.pid)) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (!cmdline.includes('--type=renderer')) continue;
    peak = Math.max(peak, statusBytes(pid, 'VmHWM') ?? 0);
  }
  return peak;
}

/**
 * Three (or more) "hosts" on this machine: one network namespace per node, each joined by a veth
 * pair to a bridge in the test's own namespace, so the test reaches every node while the links
 * between nodes can be cut (nft drop inside a namespace, or the veth taken down), slowed (a tbf
 * rate limit: this kernel has no sch_netem, so no netem delay) and healed. Names are unique per
 * run; `destroy` removes every namespace, veth and the bridge, and is safe to call twice.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 10_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

const works = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  return !r.error && r.status === 0;
};

/** Why namespaces cannot be made here, or null when they can. */
export function netnsMissing(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'not root: ip netns add needs root';
  if (!works('ip', ['-V'])) return 'no `ip` command (iproute2; .ci/run installs it)';
  if (!works('nft', ['--version'])) return 'no `nft` command (nftables; .ci/run installs it)';
  if (!works('tc', ['-V'])) return 'no `tc` command (iproute2; .ci/run installs it)';
  // everything the tests use, once: namespaces, veth, a bridge, an nft cut, a tbf limit
  let lab: NetLab | undefined;
  try {
    lab = NetLab.create(2);
    lab.isolate(0);
    lab.throttle(1, '1mbit');
    return null;
  } catch (e) {
    return `cannot build namespaces joined by a bridge here: ${(e as Error).message}`;
  } finally {
    lab?.destroy();
  }
}

export class NetLab {
  readonly size: number;
  readonly #id = randomBytes(3).toString('hex');
  readonly #subnet: string;
  #made: Array<() => void> = [];

  private constructor(size: number) {
    this.size = size;
    this.#subnet = `10.${200 + (process.pid % 50)}.${randomBytes(1)[0]}`;
  }

  /** Namespace i's name, for `ip netns exec`. */
  ns(i: number): string {
    return `vg${this.#id}n${i}`;
  }

  /** The address of host i (0-based) on the bridge. */
  ip(i: number): string {
    return `${this.#subnet}.${i + 1}`;
  }

  /** Runs a process inside host i. */
  prefix(i: number): string[] {
    return ['ip', 'netns', 'exec', this.ns(i)];
  }

  #bridge = () => `vg${this.#id}br`;
  #outer = (i: number) => `vg${this.#id}o${i}`;
  #inner = (i: number) => `vg${this.#id}i${i}`;

  static create(size: number): NetLab {
    const lab = new NetLab(size);
    try {
      lab.#build();
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  #build(): void {
    const br = this.#bridge();
    run('ip', ['link', 'add', br, 'type', 'bridge']);
    this.#made.push(() => run('ip', ['link', 'del', br]));
    run('ip', ['addr', 'add', `${this.#subnet}.254/24`, 'dev', br]);
    run('ip', ['link', 'set', br, 'up']);
    for (let i = 0; i < this.size; i++) {
      const ns = this.ns(i);
      run('ip', ['netns', 'add', ns]);
      this.#made.push(() => run('ip', ['netns', 'del', ns])); // takes its veth end (and pair) along
      run('ip', ['link', 'add', this.#outer(i), 'type', 'veth', 'peer', 'name', this.#inner(i)]);
      run('ip', ['link', 'set', this.#inner(i), 'netns', ns]);
      run('ip', ['link', 'set', this.#outer(i), 'master', br, 'up']);
      const inside = (...a: string[]) => run('ip', ['netns', 'exec', ns, ...a]);
      inside('ip', 'link', 'set', 'lo', 'up');
      inside('ip', 'addr', 'add', `${this.ip(i)}/24`, 'dev', this.#inner(i));
      inside('ip', 'link', 'set', this.#inner(i), 'up');
      // an empty filter, ready for cuts: one table per namespace, flushed to heal
      run(
        'ip',
        ['netns', 'exec', ns, 'nft', '-f', '-'],
        'table inet vigil {\n chain in { type filter hook input priority 0; }\n' +
          ' chain out { type filter hook output priority 0; }\n}\n',
      );
    }
  }

  /** Cuts host i off from every other host (both ways); the test's bridge address still reaches it. */
  isolate(i: number): void {
    const others = Array.from({ length: this.size }, (_, k) => k)
      .filter((k) => k !== i)
      .map((k) => this.ip(k))
      .join(', ');
    run(
      'ip',
      ['netns', 'exec', this.ns(i), 'nft', '-f', '-'],
      `add rule inet vigil in ip saddr { ${others} } drop\n` +
        `add rule inet vigil out ip daddr { ${others} } drop\n`,
    );
  }

  /** Removes every cut of host i made by `isolate`. */
  rejoin(i: number): void {
    run('ip', ['netns', 'exec', this.ns(i), 'nft', 'flush', 'table', 'inet', 'vigil']);
  }

  /** Takes host i's link down (it reaches no one, not even the test) or brings it back up. */
  link(i: number, up: boolean): void {
    run('ip', ['link', 'set', this.#outer(i), up ? 'up' : 'down']);
  }

  /**
   * Slows every packet host i sends to `rate` (a tbf queue: packets wait their turn, up to
   * `latencyMs`, so replies arrive late) or removes the limit (`rate` undefined).
   */
  throttle(i: number, rate?: string, latencyMs = 500): void {
    const dev = ['dev', this.#inner(i), 'root'];
    const tc = (...a: string[]) => run('ip', ['netns', 'exec', this.ns(i), 'tc', 'qdisc', ...a]);
    if (rate === undefined) tc('del', ...dev);
    else tc('add', ...dev, 'tbf', 'rate', rate, 'burst', '4kb', 'latency', `${latencyMs}ms`);
  }

  /** How many packets host i's rate limit held back (overlimits) or dropped so far. */
  throttled(i: number): { overlimits: number; dropped: number } {
    const out = run('ip', [
      'netns',
      'exec',
      this.ns(i),
      'tc',
      '-s',
      'qdisc',
      'show',
      'dev',
      this.#inner(i),
    ]);
    const m = /dropped (\d+), overlimits (\d+)/.exec(out);
    if (!m) throw new Error(`no tbf statistics for host ${i}: ${out}`);
    return { dropped: Number(m[1]), overlimits: Number(m[2]) };
  }

  destroy(): void {
    for (const undo of this.#made.splice(0).reverse()) {
      try {
        undo();
      } catch {
        /* already gone */
      }
    }
  }
}

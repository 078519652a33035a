import { describe, expect, it } from 'vitest';
import { TestNet } from './testnet.ts';

describe('raft smoke', () => {
  it('elects a leader and replicates', () => {
    const net = new TestNet(['a', 'b', 'c']);
    net.elect('a');
    expect(net.node('a').role).toBe('leader');
    net.propose('x');
    net.propose('y');
    net.tickAll(2);
    for (const id of ['a', 'b', 'c']) expect(net.appliedData(id)).toEqual(['x', 'y']);
  });
});

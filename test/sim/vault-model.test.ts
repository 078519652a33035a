import { describe, expect, it } from 'vitest';
import { decodeReply, encodeCommand, type VaultCommand, VaultModel } from './vault-model.ts';

function run(m: VaultModel, cmds: [number, VaultCommand][]): string[] {
  return cmds.map(([index, c]) => decodeReply(m.apply(encodeCommand(c), index)));
}

describe('VaultModel (the simulator stand-in for the vault state machine)', () => {
  it('a ping between claim and release cancels the release (P2)', () => {
    const m = new VaultModel(1);
    expect(
      run(m, [
        [1, { op: 'deposit', target: 2 }],
        [2, { op: 'claim', target: 2 }],
        [3, { op: 'ping', target: 0 }], // wallet 2 belongs to tenant 0
        [4, { op: 'release', target: 2 }],
        [5, { op: 'claim', target: 2 }],
        [6, { op: 'ping', target: 1 }], // another tenant's ping does not matter
        [7, { op: 'release', target: 2 }],
      ]),
    ).toEqual(['ok', 'claimed', 'ok', 'noclaim', 'claimed', 'ok', 'released']);
  });

  it('claims belong to the volatile epoch: state restored under a new epoch voids them (P4)', () => {
    const m = new VaultModel(1);
    run(m, [
      [1, { op: 'deposit', target: 3 }],
      [2, { op: 'claim', target: 3 }],
    ]);
    const disk = m.snapshot();
    const sameEpoch = new VaultModel(1);
    sameEpoch.restore(disk);
    expect(run(sameEpoch, [[3, { op: 'release', target: 3 }]])).toEqual(['released']);
    const recovered = new VaultModel(2); // whole-cluster recovery starts a new epoch
    recovered.restore(disk);
    expect(run(recovered, [[3, { op: 'release', target: 3 }]])).toEqual(['noclaim']);
    expect(recovered.deposits.has(3)).toBe(true); // deposits survive
  });
});

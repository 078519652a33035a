import type { Command } from 'commander';
import { registerClaimCommands } from './claim.ts';
import { registerClusterCommands } from './cluster.ts';
import { registerCosignerCommands } from './cosigner.ts';
import { registerDemoCommand } from './demo.ts';
import { registerHostCommand } from './host.ts';
import { registerRecoverCommand } from './recover.ts';
import { registerStartCommand } from './start.ts';
import { registerVaultCommands } from './vault.ts';
import { registerVdfCommands } from './vdf.ts';
import { registerWalletCommands } from './wallet.ts';

export function registerCommands(program: Command): void {
  registerStartCommand(program);
  registerDemoCommand(program);
  registerVdfCommands(program);
  registerVaultCommands(program);
  registerClusterCommands(program);
  registerHostCommand(program);
  registerCosignerCommands(program);
  registerWalletCommands(program);
  registerRecoverCommand(program);
  registerClaimCommands(program);
}

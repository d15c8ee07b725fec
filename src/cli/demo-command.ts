import { Command } from 'commander';
import { writeOut } from './stdio.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description("Build the seed's lab in throwaway namespaces, connect it with ctnet, check every path, and clean up")
    .option('--keep', 'leave the lab running for exploring (remove it later with ctnet demo --clean)')
    .option('--explain', 'print the equivalent ip/nft/sysctl commands as they run')
    .option('--clean', 'remove a lab left by --keep and exit')
    .option('--overlay', 'instead: three hosts and a three-member etcd cluster, one overlay network across them, every cross-host path checked (needs etcd-server and etcd-client)')
    .action(async (o: { keep?: boolean; explain?: boolean; clean?: boolean; overlay?: boolean }) => {
      if (o.overlay) {
        const { runOverlayDemo } = await import('../demo/overlay-demo.js');
        process.exitCode = await runOverlayDemo((s) => writeOut(s));
        return;
      }
      const { runDemo, cleanDemo } = await import('../demo/demo.js');
      process.exitCode = o.clean ? await cleanDemo() : await runDemo({ keep: o.keep === true, explain: o.explain === true });
    });
}

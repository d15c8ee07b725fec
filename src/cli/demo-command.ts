import { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description("Build the seed's lab in throwaway namespaces, connect it with ctnet, check every path, and clean up")
    .option('--keep', 'leave the lab running for exploring (remove it later with ctnet demo --clean)')
    .option('--explain', 'print the equivalent ip/nft/sysctl commands as they run')
    .option('--clean', 'remove a lab left by --keep and exit')
    .action(async (o: { keep?: boolean; explain?: boolean; clean?: boolean }) => {
      const { runDemo, cleanDemo } = await import('../demo/demo.js');
      process.exitCode = o.clean ? await cleanDemo() : await runDemo({ keep: o.keep === true, explain: o.explain === true });
    });
}

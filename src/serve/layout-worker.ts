import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { ElkGraph } from '../topology/svg.js';

const CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const elk = new (require(workerData.elk))();
parentPort.on('message', ({ id, graph }) => elk.layout(graph).then(
  (laid) => parentPort.postMessage({ id, graph: laid }),
  (err) => parentPort.postMessage({ id, error: String((err && err.message) || err) })));
`;

interface Waiting {
  resolve: (g: ElkGraph) => void;
  reject: (err: Error) => void;
}

/**
 * ELK's layouts on a thread of their own: a drawing with the most boxes takes over a second, and the
 * server answers its API and its event stream meanwhile. One thread, started at the first drawing
 * (loading ELK there takes ~0.2 s) and kept; its layouts run one after another.
 */
export class LayoutWorker {
  private worker: Worker | undefined;
  private next = 0;
  private readonly waiting = new Map<number, Waiting>();

  readonly layout = (graph: ElkGraph): Promise<ElkGraph> => {
    const worker = this.started();
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, graph });
    });
  };

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const elk = createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js');
    const worker = new Worker(CODE, { eval: true, workerData: { elk } });
    worker.on('message', (m: { id: number; graph?: ElkGraph; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(`laying out the topology: ${m.error}`));
      else w?.resolve(m.graph as ElkGraph);
    });
    worker.on('error', (err) => this.failAll(worker, err));
    worker.on('exit', (code) => this.failAll(worker, new Error(`the topology's layout thread ended (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  /** A thread that died fails what waits on it; the next drawing starts another. */
  private failAll(worker: Worker, err: Error): void {
    if (this.worker === worker) this.worker = undefined;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}

import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FEATURE_COUNT } from '../../../services/model/index.js';
import { createModelHolder } from '../../../services/predictor/model-holder.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';

describe('model holder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-model-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const modelPath = join(dir, 'model.onnx');
  const cardPath = join(dir, 'model.json');

  it('refuses an invalid model at start with FH_ERR_PREDICT_MODEL_INVALID', async () => {
    writeFileSync(modelPath, 'not onnx');
    copyFileSync('models/irrigation/model.json', cardPath);
    const holder = createModelHolder({ modelPath, cardPath, pollMs: 60_000 }, silentLogger());
    await expect(holder.start()).rejects.toMatchObject({ code: 'FH_ERR_PREDICT_MODEL_INVALID' });
  });

  it('keeps serving the old model when the new file is invalid, and swaps in a valid new one', async () => {
    copyFileSync('models/irrigation/model.onnx', modelPath);
    copyFileSync('models/irrigation/model.json', cardPath);
    const holder = createModelHolder({ modelPath, cardPath, pollMs: 60_000 }, silentLogger());
    await holder.start();
    const first = holder.current().identity;
    const row = new Float64Array(FEATURE_COUNT).fill(0.5);

    const bytes = readFileSync(modelPath);
    writeFileSync(modelPath, bytes.subarray(0, 100)); // truncated: checksum and parse fail
    expect(await holder.reload()).toBe(false);
    expect(holder.current().identity).toEqual(first);
    expect(await holder.current().model.run([row])).toHaveLength(2);

    writeFileSync(modelPath, bytes);
    const card = JSON.parse(readFileSync(cardPath, 'utf8')) as { version: string };
    writeFileSync(cardPath, JSON.stringify({ ...card, version: '9.9.9' }));
    expect(await holder.reload()).toBe(true);
    expect(holder.current().identity).toMatchObject({ version: '9.9.9', sha256: first.sha256 });
    await holder.stop();
  });

  it('notices a changed file by itself (polling) and swaps the model in', async () => {
    copyFileSync('models/irrigation/model.onnx', modelPath);
    copyFileSync('models/irrigation/model.json', cardPath);
    const holder = createModelHolder({ modelPath, cardPath, pollMs: 50 }, silentLogger());
    await holder.start();
    const card = JSON.parse(readFileSync(cardPath, 'utf8')) as { version: string };
    // Written again on every probe: the poller's first look at the file may land after a single
    // write (then it never sees a change), and a loaded machine may take a while to reload.
    await eventually(
      () => {
        writeFileSync(cardPath, JSON.stringify({ ...card, version: '7.0.0' }));
        return holder.current().identity.version === '7.0.0';
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'the polled model swap' },
    );
    expect(holder.current().identity.version).toBe('7.0.0');
    await holder.stop();
  });
});

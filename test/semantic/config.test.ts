import { describe, expect, it } from 'vitest';
import { resolveCli } from '../../src/cli-options.js';
import { parseConfig } from '../../src/config.js';
import { effectiveThreshold } from '../../src/semantic/options.js';

describe('semantic configuration', () => {
  it('is off by default, lexical with its measured threshold when enabled', () => {
    const config = parseConfig({});
    expect(config.semantic.enabled).toBe(false);
    expect(config.semantic.maxMessages).toBe(3);
    expect(config.semantic.embeddingsTimeoutMs).toBe(1000);
    expect(effectiveThreshold(parseConfig({ semantic: { enabled: true } }).semantic)).toBe(0.75);
    expect(
      effectiveThreshold(parseConfig({ semantic: { enabled: true, embeddingsUrl: 'http://127.0.0.1:1/v1' } }).semantic),
    ).toBe(0.95);
  });

  it('every flag, and every SLUICE_* twin', async () => {
    const flags = await resolveCli(
      [
        '--semantic',
        '--semantic-threshold',
        '0.97',
        '--embeddings-url',
        'http://127.0.0.1:11434/v1',
        '--embeddings-model',
        'nomic-embed-text',
        '--embeddings-api-key',
        'sk-e',
        '--embeddings-timeout-ms',
        '250',
        '--semantic-shadow',
      ],
      {},
    );
    const expected = {
      enabled: true,
      threshold: 0.97,
      embeddingsUrl: 'http://127.0.0.1:11434/v1',
      embeddingsModel: 'nomic-embed-text',
      embeddingsApiKey: 'sk-e',
      embeddingsTimeoutMs: 250,
      shadow: true,
    };
    expect(flags.config?.semantic).toMatchObject(expected);
    const env = await resolveCli([], {
      SLUICE_SEMANTIC: 'true',
      SLUICE_SEMANTIC_THRESHOLD: '0.97',
      SLUICE_EMBEDDINGS_URL: 'http://127.0.0.1:11434/v1',
      SLUICE_EMBEDDINGS_MODEL: 'nomic-embed-text',
      SLUICE_EMBEDDINGS_API_KEY: 'sk-e',
      SLUICE_EMBEDDINGS_TIMEOUT_MS: '250',
      SLUICE_SEMANTIC_SHADOW: '1',
    });
    expect(env.config?.semantic).toMatchObject(expected);
  });

  it('shadow mode alone runs the layer (lookups, nothing served)', async () => {
    const { createSemanticLayer } = await import('../../src/semantic/index.js');
    const shadowOnly = await resolveCli(['--semantic-shadow'], {});
    expect(createSemanticLayer(shadowOnly.config?.semantic ?? parseConfig({}).semantic).active).toBe(true);
    expect(createSemanticLayer(parseConfig({}).semantic).active).toBe(false);
  });

  it('names the bad field', async () => {
    await expect(resolveCli(['--semantic', '--semantic-threshold', '1.5'], {})).rejects.toThrow(/semantic\.threshold/);
    await expect(resolveCli(['--semantic-threshold', 'high'], {})).rejects.toThrow(/--semantic-threshold must be a number/);
    await expect(resolveCli(['--semantic', '--embeddings-url', 'not a url'], {})).rejects.toThrow(/semantic\.embeddingsUrl/);
  });
});

import { describe, expect, test } from 'vitest';
import { resolveCli } from '../../src/cli-options.js';
import { bedrockUpstreamUrl, ConfigError, parseConfig } from '../../src/config.js';

describe('Bedrock configuration', () => {
  test('the upstream defaults to the region endpoint; region from AWS_REGION, else us-east-1', async () => {
    expect(bedrockUpstreamUrl(parseConfig({}))).toBe('https://bedrock-runtime.us-east-1.amazonaws.com');
    const fromEnv = await resolveCli([], { AWS_REGION: 'eu-central-1' });
    expect(bedrockUpstreamUrl(fromEnv.config ?? parseConfig({}))).toBe(
      'https://bedrock-runtime.eu-central-1.amazonaws.com',
    );
    const flag = await resolveCli(['--bedrock-region', 'ap-south-1'], { AWS_REGION: 'eu-central-1' });
    expect(flag.config?.bedrockRegion).toBe('ap-south-1');
    const url = await resolveCli([], { SLUICE_BEDROCK_UPSTREAM: 'http://127.0.0.1:9999' });
    expect(url.config && bedrockUpstreamUrl(url.config)).toBe('http://127.0.0.1:9999');
  });

  test("Sluice's credentials come from the standard AWS variables", async () => {
    const { config } = await resolveCli([], {
      AWS_ACCESS_KEY_ID: 'AKIAENV',
      AWS_SECRET_ACCESS_KEY: 'secret-from-env',
      AWS_SESSION_TOKEN: 'token-from-env',
    });
    expect(config?.bedrock).toMatchObject({
      accessKeyId: 'AKIAENV',
      secretAccessKey: 'secret-from-env',
      sessionToken: 'token-from-env',
      clients: [],
    });
  });

  test('errors name the field: half a key pair, a bad region, a bad client entry', () => {
    expect(() => parseConfig({ bedrock: { accessKeyId: 'AKIA' } })).toThrow(/bedrock/);
    expect(() => parseConfig({ bedrockRegion: 'Not A Region' })).toThrow(/bedrockRegion/);
    expect(() => parseConfig({ bedrock: { clients: [{ accessKeyId: 'x' }] } })).toThrow(ConfigError);
    expect(() => parseConfig({ bedrock: { clients: [{ accessKeyId: 'x' }] } })).toThrow(
      /bedrock\.clients\.0\.secretAccessKey/,
    );
  });
});

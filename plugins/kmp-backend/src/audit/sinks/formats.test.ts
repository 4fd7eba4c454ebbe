import { ConfigReader } from '@backstage/config';
import { StoredAuditEvent } from '@kmp/plugin-kmp-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeEvent } from '../__testUtils__/auditTestUtils';
import { startHttpReceiver } from '../__testUtils__/receivers';
import { cefHeaderEscape, cefValueEscape, formatCef } from './cef';
import { createFileSink } from './fileSink';
import { classifyStatus, createHttpSink } from './httpSink';
import { formatSyslogMessage, frameOctetCounting } from './syslogSink';

function stored(index: number, overrides = {}): StoredAuditEvent {
  return { ...makeEvent(index, overrides), seq: index, hash: 'a'.repeat(64) };
}

const cefOptions = {
  vendor: 'KMP',
  product: 'Kubernetes Management Platform',
  version: '1',
};

describe('CEF', () => {
  it('escapes header fields and extension values as the CEF specification says', () => {
    expect(cefHeaderEscape('a|b\\c\nd')).toBe('a\\|b\\\\c d');
    expect(cefValueEscape('k=v\\x\r\ny\rz|pipe')).toBe(
      'k\\=v\\\\x\\ny\\rz|pipe',
    );
  });

  it('cannot be broken out of by attacker-chosen values', () => {
    const event = stored(7, {
      actor: {
        type: 'human',
        ref: 'user:default/eve suser=admin',
        ip: '10.0.0.1',
      },
      decision: { result: 'deny', reason: 'line1\nCEF:0|Fake|Vendor' },
      request: { method: 'GET', path: '/x?a=b' },
    });
    const cef = formatCef(event, cefOptions);
    expect(cef.split('\n')).toHaveLength(1);
    expect(cef).toContain('suser=user:default/eve suser\\=admin ');
    expect(cef).toContain('reason=line1\\nCEF:0|Fake|Vendor ');
    expect(cef).toContain('request=/x?a\\=b ');
    expect(cef).toContain('src=10.0.0.1 ');
    expect(cef).toMatch(
      /^CEF:0\|KMP\|Kubernetes Management Platform\|1\|cluster\.register\|cluster\.register deny success\|6\|rt=\d+ /,
    );
  });

  it('leaves out a source address that is not an IP address', () => {
    const cef = formatCef(
      stored(2, {
        actor: { type: 'service', ref: 'plugin:scaffolder', ip: 'not-an-ip' },
      }),
      cefOptions,
    );
    expect(cef).not.toContain('src=');
    expect(cef).toContain('cs5=service');
  });

  it('frames RFC 5424 messages with octet counting, counting bytes not characters', () => {
    const message = formatSyslogMessage(
      stored(3, { actor: { type: 'break-glass', ref: 'user:default/zoë' } }),
      {
        ...cefOptions,
        facility: 13,
        hostname: 'kmp host',
        appName: 'kmp',
        payload: 'cef',
      },
    );
    expect(message).toMatch(
      /^<106>1 2026-11-25T12:00:03.000Z kmphost kmp - audit - CEF:0\|/,
    );
    const frame = frameOctetCounting(message);
    const space = frame.indexOf(' ');
    expect(Number(frame.subarray(0, space).toString())).toBe(
      frame.length - space - 1,
    );
  });
});

describe('HTTP sink formats, against a real receiver', () => {
  it.each([
    [200, 'ok'],
    [204, 'ok'],
    [408, 'transient'],
    [429, 'transient'],
    [500, 'transient'],
    [503, 'transient'],
    [400, 'rejected'],
    [401, 'rejected'],
    [404, 'rejected'],
  ])('classifies HTTP %i as %s', (status, verdict) => {
    expect(classifyStatus(status)).toBe(verdict);
  });

  it('sends CloudEvents 1.0 structured-mode batches', async () => {
    const requests: Array<{ headers: any; body: string }> = [];
    const receiver = await startHttpReceiver({
      onRequest: r => requests.push(r),
      parse: body => JSON.parse(body).map((e: any) => e.kmpseq),
    });
    try {
      const sink = createHttpSink(
        new ConfigReader({
          url: `http://127.0.0.1:${receiver.port}/events`,
          format: 'cloudevents',
          source: '/kmp/prod',
        }),
      );
      await sink.deliver([stored(1), stored(2)]);
      expect(requests[0].headers['content-type']).toBe(
        'application/cloudevents-batch+json; charset=utf-8',
      );
      const [first] = JSON.parse(requests[0].body);
      expect(first).toMatchObject({
        specversion: '1.0',
        source: '/kmp/prod',
        type: 'io.kmp.audit.event.v1',
        subject: 'clusters/cluster-1/namespaces/team-1',
        datacontenttype: 'application/json',
        kmpseq: 1,
        data: { action: 'cluster.register' },
      });
      expect(first.id).toBe(first.data.id);
      expect(
        Object.keys(first).filter(k => !/^[a-z0-9]{1,20}$/.test(k)),
      ).toEqual([]);
      expect(receiver.seqs).toEqual([1, 2]);
      await sink.close?.();
    } finally {
      await receiver.close();
    }
  });

  it('sends Splunk HEC events with the token from config, which never shows in errors', async () => {
    const requests: Array<{ headers: any; url: string; body: string }> = [];
    let status = 200;
    const receiver = await startHttpReceiver({
      onRequest: r => requests.push(r),
      status: () => status,
      parse: body => body.split('\n').map(line => JSON.parse(line).event.seq),
    });
    try {
      const sink = createHttpSink(
        new ConfigReader({
          url: `http://127.0.0.1:${receiver.port}/`,
          format: 'splunk-hec',
          token: 'hec-secret-token',
          index: 'kmp',
        }),
      );
      await sink.deliver([stored(1), stored(2)]);
      expect(requests[0].url).toBe('/services/collector/event');
      expect(requests[0].headers.authorization).toBe('Splunk hec-secret-token');
      const lines = requests[0].body.split('\n').map(l => JSON.parse(l));
      expect(lines[0]).toMatchObject({
        sourcetype: 'kmp:audit',
        source: 'kmp',
        index: 'kmp',
        time: Date.parse(makeEvent(1).time) / 1000,
        event: { seq: 1 },
      });

      status = 403;
      const error = await sink.deliver([stored(3)]).catch(e => e);
      expect(error).toMatchObject({ kind: 'rejected' });
      expect(error.message).toContain('HTTP 403');
      expect(String(error.message)).not.toContain('hec-secret-token');
      await sink.close?.();
    } finally {
      await receiver.close();
    }
  });
});

describe('file sink', () => {
  it('appends NDJSON lines', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kmp-audit-file-'));
    try {
      const file = path.join(dir, 'nested', 'audit.ndjson');
      const sink = createFileSink(new ConfigReader({ path: file }));
      await sink.deliver([stored(1), stored(2)]);
      await sink.deliver([stored(3)]);
      await sink.close?.();
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines.map(l => JSON.parse(l).seq)).toEqual([1, 2, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

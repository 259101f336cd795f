import { describe, expect, it } from 'vitest';
import { parseCmdline } from '../../src/cmdline/parse.ts';
import { continuouslyPushed, expiringVolumes, syncActionsAt } from '../../src/init/volumes-plan.ts';

const volumes = parseCmdline(
  [
    'b2c.minio="s3,http://s3:9000,a,b"',
    'b2c.volume="job,mirror=s3/jobs/42,pull_on=pipeline_start,push_on=pipeline_end"',
    // A mirror with no condition is never synced, as upstream: farms mount read-only buckets this way.
    'b2c.volume="reference,mirror=s3/reference,remove,overwrite"',
    'b2c.volume="logs,push_to=s3/logs/42,push_on=changes,expiration=pipeline_end"',
    'b2c.volume="steps,mirror=s3/steps/42,pull_on=container_start,push_on=container_end|pipeline_end"',
    'b2c.volume="scratch"',
  ].join(' '),
).volumes;

describe('volume schedule', () => {
  it('syncs only at the conditions a volume names, and pushes at pipeline end what changes pushes', () => {
    expect(syncActionsAt(volumes, 'pipeline_start')).toEqual([{ volume: 'job', direction: 'pull' }]);
    expect(syncActionsAt(volumes, 'pipeline_end')).toEqual([
      { volume: 'job', direction: 'push' },
      { volume: 'logs', direction: 'push' },
      { volume: 'steps', direction: 'push' },
    ]);
  });

  it('syncs around each container as asked, pulls before pushes', () => {
    expect(syncActionsAt(volumes, 'container_start')).toEqual([{ volume: 'steps', direction: 'pull' }]);
    expect(syncActionsAt(volumes, 'container_end')).toEqual([{ volume: 'steps', direction: 'push' }]);
  });

  it('names the continuously pushed and the expiring volumes', () => {
    expect(continuouslyPushed(volumes)).toEqual(['logs']);
    expect(expiringVolumes(volumes)).toEqual(['logs']);
  });
});

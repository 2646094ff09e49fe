// Deaggregates KPL aggregated records with AWS's aws-kinesis-agg, MD5 checksum verification on, and
// prints each user record as a JSON line; exits 1 if any record fails. A debugging aid for what ferry
// sends, not part of the test run:
//   node tests/golden/verify_aggregate.mjs FILE...
// A FILE holds one aggregated record as raw bytes (starting with the magic F3 89 9A C2), or text with one
// base64 record per line, or a JSON file shaped like aggregates.json (its cases' "aggregate" values).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(new URL('../integration/package.json', import.meta.url));
const { deaggregateSync } = require('aws-kinesis-agg');

const magic = Buffer.from('f3899ac2', 'hex');

function recordsIn(path) {
  const bytes = readFileSync(path);
  if (bytes.subarray(0, 4).equals(magic)) return [bytes.toString('base64')];
  const text = bytes.toString('utf8');
  if (text.trimStart().startsWith('{')) return JSON.parse(text).cases.map((c) => c.aggregate);
  return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node tests/golden/verify_aggregate.mjs FILE...');
  process.exit(2);
}
let failed = 0;
for (const path of files) {
  recordsIn(path).forEach((data, n) => {
    const where = `${path}#${n}`;
    if (!Buffer.from(data, 'base64').subarray(0, 4).equals(magic)) {
      console.error(`${where}: not a KPL aggregated record (no magic); a raw record`);
      return;
    }
    // The outer partition key is not inside the aggregate; the deaggregator only passes it through.
    deaggregateSync({ partitionKey: '', data }, true, (err, users) => {
      if (err) {
        console.error(`${where}: ${err.message}`);
        failed++;
        return;
      }
      for (const u of users) {
        // explicitPartitionKey is the table's first entry for a record without one (protobufjs reads the
        // absent index as 0), so it is only a hint here.
        console.log(JSON.stringify({
          record: where, sub: u.subSequenceNumber, partitionKey: u.partitionKey,
          explicitHashKey: u.explicitPartitionKey, data: u.data,
        }));
      }
    });
  });
}
process.exit(failed ? 1 : 0);

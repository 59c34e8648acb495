// A second OS process for test/core/settings.integ.test.ts: overwrites settings-document
// chunks in place, in an order drawn from a seeded PRNG, then puts the originals back; `rounds`
// times. Usage: node settings-writer.js <moto endpoint> <seed> <JSON {writes, restores, rounds}>
const { PutParameterCommand, SSMClient } = require('@aws-sdk/client-ssm');

const [endpoint, seedText, planText] = process.argv.slice(2);
const plan = JSON.parse(planText);
let state = Number(seedText) >>> 0;
// mulberry32
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const shuffled = (items) => {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};
const ssm = new SSMClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

(async () => {
  for (let round = 0; round < plan.rounds; round++) {
    for (const batch of [plan.writes, plan.restores]) {
      for (const p of shuffled(batch)) {
        await ssm.send(new PutParameterCommand({ Name: p.name, Value: p.value, Type: 'String', Overwrite: true }));
      }
    }
  }
})().catch((e) => {
  process.stderr.write(`settings writer (seed ${seedText}) failed: ${e.name}\n`);
  process.exitCode = 1;
});

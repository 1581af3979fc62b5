import { launchChromium, serve } from './harness.js';
const { server, url } = await serve('/tmp/idbscratch/page');
const browser = await launchChromium();
const page = await browser.newPage();
await page.goto(`${url}index.html`);
const args = JSON.parse(process.argv[2] ?? '{}');
for (let i = 0; i < Number(process.argv[3] ?? 3); i++)
  console.log(JSON.stringify(await page.evaluate((a, f) => (globalThis as any).raw[f](a), args, process.argv[4] ?? 'run')));
await browser.close();
server.close();

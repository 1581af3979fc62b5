// webpack 5: `npm run build:webpack` builds the page into dist-webpack/. Nothing here is for
// level-git (webpack reads its `browser` condition and field by itself); the page is an ES
// module (index.html loads app.js with type="module"), so the output is one too, and
// index.html is copied beside it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default {
  mode: 'production',
  target: ['web', 'es2022'],
  entry: { app: './app.js' },
  experiments: { outputModule: true },
  output: { path: here('dist-webpack'), module: true, filename: '[name].js', clean: true },
  performance: { hints: false },
  plugins: [
    {
      apply(compiler) {
        const { RawSource } = compiler.webpack.sources;
        compiler.hooks.thisCompilation.tap('copy-html', (c) =>
          c.hooks.processAssets.tap({ name: 'copy-html' }, () => c.emitAsset('index.html', new RawSource(readFileSync(here('index.html'))))),
        );
      },
    },
  ],
};

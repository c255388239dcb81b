// Bundle src/index.js for j2w, leaving the WIT imports (fermyon:spin/...) external.
import { build } from 'esbuild';
import { SpinEsbuildPlugin } from '@spinframework/build-tools/plugins/esbuild/index.js';

const spinPlugin = await SpinEsbuildPlugin();

await build({
  entryPoints: ['./src/index.js'],
  outfile: './build/bundle.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  minify: false,
  plugins: [spinPlugin],
  logLevel: 'warning',
});

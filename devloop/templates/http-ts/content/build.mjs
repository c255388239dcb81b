// Bundle the handler for j2w, leaving WIT imports external.
import { build } from 'esbuild';
import { SpinEsbuildPlugin } from '@spinframework/build-tools/plugins/esbuild/index.js';

await build({
  entryPoints: ['./src/index.ts'],
  outfile: './build/bundle.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  plugins: [await SpinEsbuildPlugin()],
  logLevel: 'warning',
});

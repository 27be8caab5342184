// Builds dist/widget.js: the widget, its CSS (minified) and socket.io-client in one file.
//   node build.mjs            production build (minified)
//   node build.mjs --watch    rebuild on change (not minified)
import { readFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const watch = process.argv.includes("--watch");
const target = ["es2019"]; // every browser since 2019; no lookbehind regexps either (Safari < 16.4)
const cssTarget = ["chrome80", "firefox78", "safari13"];

async function css() {
  const source = await readFile(new URL("./src/widget.css", import.meta.url), "utf8");
  const { code } = await esbuild.transform(source, { loader: "css", minify: !watch, target: cssTarget });
  return code;
}

const options = {
  entryPoints: ["src/widget.js"],
  bundle: true,
  minify: !watch,
  format: "iife",
  platform: "browser",
  target,
  legalComments: "none",
  outfile: "dist/widget.js",
  define: { __WIDGET_CSS__: JSON.stringify(await css()) },
  logLevel: "warning",
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log("watching src/ (restart to pick up CSS changes)");
} else {
  await esbuild.build(options);
  const bundle = await readFile(new URL("./dist/widget.js", import.meta.url));
  const kb = (n) => (n / 1024).toFixed(1) + " KB";
  console.log(`dist/widget.js: ${kb(bundle.length)} minified, ${kb(gzipSync(bundle, { level: 9 }).length)} gzipped`);
}

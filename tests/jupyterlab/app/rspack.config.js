// Builds app/index.js into app/build/, as JupyterLab's examples/app
// (v4.6.3) does, with one rule more: @jupyter/web-components imports
// '.js'-less paths from ES modules, which rspack refuses unless
// fullySpecified is off.
const path = require('path');
const rspack = require('@rspack/core');
const { Build } = require('@jupyter/builder');
const miniSVGDataURI = require('mini-svg-data-uri');
const data = require('../package.json');

const build = path.join(__dirname, 'build');

// Copies the extensions' settings schemas and themes into build/ and writes
// build/style.js, which imports their CSS.
const assets = Build.ensureAssets({ packageNames: data.jupyterlab.extensions, output: build });

module.exports = [
  {
    entry: [path.join(__dirname, 'index.js')],
    output: { path: build, filename: 'bundle.js' },
    bail: true,
    devtool: false,
    mode: 'development',
    module: {
      rules: [
        { test: /\.m?js$/, resolve: { fullySpecified: false } },
        { test: /\.css$/, use: ['style-loader', 'css-loader'] },
        { test: /\.raw\.css$/, type: 'asset/source' },
        { test: /\.html$/, type: 'asset/resource' },
        { test: /\.md$/, type: 'asset/source' },
        { test: /\.(jpg|png|gif)$/, type: 'asset/resource' },
        { test: /\.js.map$/, type: 'asset/resource' },
        { test: /\.woff2?(\?v=\d+\.\d+\.\d+)?$/, type: 'asset' },
        { test: /\.ttf(\?v=\d+\.\d+\.\d+)?$/, type: 'asset' },
        { test: /\.eot(\?v=\d+\.\d+\.\d+)?$/, type: 'asset/resource' },
        {
          // In CSS an SVG is a data URI ...
          test: /\.svg(\?v=\d+\.\d+\.\d+)?$/,
          issuer: /\.css$/,
          type: 'asset/inline',
          generator: {
            dataUrl: { content: (content) => miniSVGDataURI(content.content), mimetype: 'image/svg+xml' },
          },
        },
        // ... and in JavaScript the SVG's text.
        { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.js$/, type: 'asset/source' },
      ],
    },
    plugins: [
      // Packages that call process.cwd() (the path polyfill).
      new rspack.DefinePlugin({ process: { cwd: () => '/', env: {} } }),
    ],
  },
].concat(assets);

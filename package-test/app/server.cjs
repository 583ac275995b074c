'use strict';
// CommonJS consumer: require('memwarden').
const express = require('express');
const memwarden = require('memwarden');
const serve = require('./serve.cjs');

serve({ memwarden, express, moduleSystem: 'commonjs', resolved: require.resolve('memwarden') }).catch((err) => {
  console.error(err);
  process.exit(1);
});

'use strict';
const { greet } = require('./lib/greet');

console.log('starting');
console.log(greet({}));

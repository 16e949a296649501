'use strict';

function money(cents) {
  const unused = 1;
  return (cents / 100).toFixed(2) + currency;
}

module.exports = { money };

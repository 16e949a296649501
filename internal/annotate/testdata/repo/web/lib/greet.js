'use strict';

function greet(user) {
  return 'Hello, ' + user.name.toUpperCase();
}

module.exports = { greet };

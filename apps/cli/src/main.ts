#!/usr/bin/env node
console.log("mcp");

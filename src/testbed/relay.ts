// Carries a test LAN's TCP port to a Unix socket, run inside the LAN's namespace: the socket's other end is a server of the test on 127.0.0.1.
//
// Usage: node --import tsx src/testbed/relay.ts ADDRESS:PORT SOCKET

import { connect, createServer } from 'node:net';
import { joinSockets } from './sockets.ts';

const [listen, socket] = process.argv.slice(2);
const colon = listen?.lastIndexOf(':') ?? -1;
if (listen === undefined || socket === undefined || colon === -1) throw new Error('usage: relay.ts ADDRESS:PORT SOCKET');
const server = createServer((client) => joinSockets(client, connect(socket)));
server.listen(Number(listen.slice(colon + 1)), listen.slice(0, colon), () => process.stdout.write(`relaying ${listen} to ${socket}\n`));
process.on('SIGTERM', () => process.exit(0));

// Preload for end-to-end runs of fixtures that hard-code `app.listen(3000)`: listen on PORT
// instead (a free port per test), and say so, so that the test knows the server is up.
const net = require("node:net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && process.env.PORT) args[0] = Number(process.env.PORT);
  this.once("listening", () => console.log(`listening on ${process.env.PORT}`));
  return listen.apply(this, args);
};

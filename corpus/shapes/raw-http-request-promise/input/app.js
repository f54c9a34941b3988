const Koa = require("koa");
const Router = require("koa-router");
const bodyParser = require("koa-bodyparser");
const complete = require("./utils/llm");

const app = new Koa();
const router = new Router();

router.post("/messages", async (ctx) => {
  ctx.body = { text: await complete(ctx.request.body.msg) };
});

app.use(bodyParser()).use(router.routes());
app.listen(3000);

// Relying party: passport + passport-jwt + jwks-rsa on express, configured as their docs recommend:
//   https://github.com/mikenicholson/passport-jwt#configure-strategy
//   https://github.com/auth0/node-jwks-rsa/blob/master/EXAMPLES.md#passport (passportJwtSecret)
//   https://www.passportjs.org/concepts/authentication/middleware/ (custom callback, session: false)
// One long-lived passportJwtSecret (cache: true); issuer, audience, algorithms ["RS256"],
// jsonWebTokenOptions {clockTolerance: 30}; the token from `Authorization: Bearer`; recommended
// (RP_CONFIG unset): also jsonWebTokenOptions.maxAge and the presence of `exp` checked in verify.
//
// CA trust: jwks-rsa's documented `requestAgent` option, an https.Agent({ca}). No NODE_EXTRA_CA_CERTS.
import https from "node:https";
import express from "express";
import jwksRsa from "jwks-rsa";
import passport from "passport";
import { ExtractJwt, Strategy as JwtStrategy } from "passport-jwt";
import { MAX_AGE, RECOMMENDED, args, ready, reason } from "./_rp.mjs";

const { issuer, audience, ca, port } = args();

passport.use(
  new JwtStrategy(
    {
      secretOrKeyProvider: jwksRsa.passportJwtSecret({
        jwksUri: `${issuer}/keys.json`, // Bitbucket's jwks_uri
        cache: true,
        requestAgent: new https.Agent({ ca }),
      }),
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      issuer,
      audience,
      algorithms: ["RS256"],
      jsonWebTokenOptions: RECOMMENDED ? { clockTolerance: 30, maxAge: `${MAX_AGE}s` } : { clockTolerance: 30 },
    },
    (payload, done) => {
      // DOCS-GAP: jsonwebtoken (which passport-jwt calls) checks `exp` only when present and has no
      // option to require it; the user must check that it exists.
      if (RECOMMENDED && typeof payload.exp !== "number") return done(null, false, new Error("jwt has no numeric exp"));
      done(null, payload);
    },
  ),
);

const app = express();
app.use(passport.initialize());
app.get("/", (req, res, next) => {
  passport.authenticate("jwt", { session: false }, (err, user, info) => {
    if (err || !user) {
      return res.status(401).type("text/plain").send(`${reason(err ?? info ?? "refused")}\n`);
    }
    res.type("text/plain").send("ok");
  })(req, res, next);
});
app.use((err, req, res, next) => {
  res.status(401).type("text/plain").send(`${reason(err)}\n`);
});

ready(app.listen(port, "127.0.0.1"));

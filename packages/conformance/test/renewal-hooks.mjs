// workerModule of the reference server in typescript-server.conformance.test.ts:
// the conformance runner's renewable credential lives 2 s (renewal scenarios),
// its refused credential is refused, any other (none included) is accepted
// without an expiry, so the other scenarios run as without authentication.
export default {
  authenticate(hello) {
    if (hello.token === "conformance-renewable") return { expiresIn: 2_000 };
    return hello.token !== "conformance-refused";
  },
};

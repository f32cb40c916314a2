/** The bootstrap admin key every test server is started with (all scopes); test-only. */
export const TEST_ADMIN_KEY = 'test-bootstrap-admin-key-0123456789abcdef';

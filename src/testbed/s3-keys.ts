// The keys the test S3 server knows; any other access key gets 403.

export const TEST_ACCESS_KEY = 'b2c-test-access';
export const TEST_SECRET_KEY = 'b2c-test-secret-4a8d1f';

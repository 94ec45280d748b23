// Calls eplink with the current Node SDK core, @alicloud/openapi-client,
// which signs with v3 (ACS3-HMAC-SHA256) as every generated Node SDK does
// (@alicloud/privatelink20200415, @alicloud/cms20190101, …): action and
// version in x-acs-* headers, the signature in Authorization.
//
//   ALIBABA_CLOUD_ACCESS_KEY_ID=… ALIBABA_CLOUD_ACCESS_KEY_SECRET=… \
//     EPLINK_API=127.0.0.1:8080 node sdk-v3.js [ENDPOINT_ID]
//
// Each call is checked; the first failure exits 1. A product is one entry
// of `calls`; CloudMonitor (2019-01-01) is also called through its
// generated client, @alicloud/cms20190101.
'use strict';
const OpenApi = require('@alicloud/openapi-client');
const Util = require('@alicloud/tea-util');

const endpoint = process.env.EPLINK_API || '127.0.0.1:8080';
const region = process.env.REGION || 'cn-hangzhou';
const endpointId = process.argv[2] || '';

function client(secret) {
  return new OpenApi.default(new OpenApi.Config({
    accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: secret || process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    endpoint, protocol: 'http', regionId: region,
  }));
}

// call sends one RPC-style action as the generated SDKs do: parameters in
// the query, or in a form body (body: true).
async function call(c, { version, action, params, body }) {
  const p = new OpenApi.Params({
    action, version, protocol: 'HTTP', pathname: '/', method: 'POST', authType: 'AK',
    style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
  });
  const query = Object.assign({ RegionId: region }, body ? {} : params);
  const req = new OpenApi.OpenApiRequest({ query, body: body ? params : undefined });
  return c.callApi(p, req, new Util.RuntimeOptions({ autoretry: false, maxAttempts: 1 }));
}

const calls = [
  {
    name: 'PrivateLink DescribeRegions', version: '2020-04-15', action: 'DescribeRegions', params: {},
    check: (b) => b.Regions && b.Regions.Region.some((r) => r.RegionId === region),
  },
  {
    name: 'PrivateLink ListVpcEndpoints', version: '2020-04-15', action: 'ListVpcEndpoints',
    params: endpointId ? { EndpointId: endpointId } : {},
    check: (b) => Array.isArray(b.Endpoints) && (!endpointId || b.Endpoints.some((e) => e.EndpointId === endpointId)),
  },
  {
    name: 'PrivateLink ListVpcEndpoints, parameters in a form body', version: '2020-04-15', action: 'ListVpcEndpoints',
    params: { MaxResults: '20' }, body: true, check: (b) => b.MaxResults === 20,
  },
  {
    name: 'CloudMonitor DescribeMetricMetaList', version: '2019-01-01', action: 'DescribeMetricMetaList',
    params: { Namespace: 'acs_privatelink' }, check: (b) => b.Success === true && b.Resources,
  },
];

async function main() {
  const c = client();
  for (const k of calls) {
    const res = await call(c, k);
    if (res.statusCode !== 200 || !res.body.RequestId || !k.check(res.body)) {
      throw new Error(`${k.name}: unexpected answer ${res.statusCode} ${JSON.stringify(res.body)}`);
    }
    console.log(`ok   ${k.name} (RequestId ${res.body.RequestId})`);
  }
  // A wrong secret is the server's SignatureDoesNotMatch, not a transport error.
  try {
    await call(client('not-the-secret'), calls[0]);
    throw new Error('wrong secret: the call succeeded');
  } catch (e) {
    if (e.code !== 'SignatureDoesNotMatch' || e.statusCode !== 400) {
      throw new Error(`wrong secret: got ${e.statusCode} ${e.code}: ${e.message}`);
    }
    console.log('ok   wrong secret: 400 SignatureDoesNotMatch');
  }
  await generatedCMS();
}

// generatedCMS calls CloudMonitor through its generated client,
// @alicloud/cms20190101 (on the newer core, @alicloud/openapi-core), as a
// user's alarm script would.
async function generatedCMS() {
  const Cms = require('@alicloud/cms20190101');
  const { $OpenApiUtil } = require('@alicloud/openapi-core');
  const c = new Cms.default(new $OpenApiUtil.Config({
    accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    endpoint, protocol: 'http', regionId: region,
  }));
  const meta = await c.describeMetricMetaList(new Cms.DescribeMetricMetaListRequest({ namespace: 'acs_privatelink' }));
  const names = (meta.body.resources && meta.body.resources.resource || []).map((r) => r.metricName);
  if (!meta.body.success || !names.includes('VpcEndpointInBps')) {
    throw new Error(`@alicloud/cms20190101 DescribeMetricMetaList: ${JSON.stringify(meta.body)}`);
  }
  const rules = await c.describeMetricRuleList(new Cms.DescribeMetricRuleListRequest({ namespace: 'acs_privatelink' }));
  if (!rules.body.success) {
    throw new Error(`@alicloud/cms20190101 DescribeMetricRuleList: ${JSON.stringify(rules.body)}`);
  }
  console.log(`ok   @alicloud/cms20190101: ${names.length} metrics, ${rules.body.total} rules`);
}

main().catch((e) => {
  console.error(`FAIL ${e.message}`);
  process.exit(1);
});

// eplink console. Every action is an OpenAPI call made through
// /console/api/call as the signed-in account; nothing here decides a rule.
// User-supplied text is only ever put in the page as text (h() below).
'use strict';

const T = {
  en: {
    title: 'eplink console', services: 'Endpoint services', endpoints: 'Endpoints', monitor: 'Monitoring', topology: 'Topology',
    signin: 'Sign in', signout: 'Sign out', akid: 'AccessKey ID', aksecret: 'AccessKey secret', demoAccounts: 'Demo accounts',
    signinAs: 'Sign in as', lang: '中文 (zh)', id: 'ID', status: 'Status', description: 'Description', zones: 'Zones',
    autoAccept: 'Auto-accept connections', bandwidth: 'Bandwidth (Mbps)', defaultBandwidth: 'Default connection bandwidth (Mbps)',
    resources: 'Service resources', connections: 'Endpoint connections', whitelist: 'Service whitelist', basic: 'Basic information',
    resourceId: 'Resource ID', zone: 'Zone', ip: 'IP', autoAlloc: 'Automatic allocation', related: 'Related endpoints',
    actions: 'Actions', remove: 'Remove', addResource: 'Add service resource', add: 'Add', save: 'Save',
    endpointId: 'Endpoint ID', owner: 'Owner account', vpc: 'VPC', allow: 'Allow', reject: 'Reject', adjust: 'Adjust bandwidth',
    showZones: 'Show zones', hideZones: 'Hide zones', eni: 'ENI', resource: 'Service resource', replaced: 'Replaced resource',
    allocate: 'Allocate resource', auto: 'Automatic', manual: 'Manual', connect: 'Connect', disconnect: 'Disconnect',
    replace: 'Replace resource', graceful: 'Smooth (Graceful)', force: 'Forced (Force)', cleanReplaced: 'Disconnect old service resource',
    userId: 'Account ID', addUser: 'Add to whitelist', none: 'None', create: 'Create endpoint', name: 'Name',
    service: 'Endpoint service', sgs: 'Security groups', sg: 'Security group', vswitch: 'vSwitch', addZone: 'Add zone',
    removeZone: 'Remove zone', domain: 'Endpoint domain', zoneDomain: 'Zone domain', del: 'Delete', attach: 'Attach', detach: 'Detach',
    connStatus: 'Connection', epStatus: 'Endpoint', allowAuto: 'and allocate resources automatically', cancel: 'Cancel', submit: 'Create', back: 'Back',
    groupBy: 'Chart per', window: 'Window', inOut: 'Bandwidth in / out (Mbit/s) against the cap', active: 'Active connections', newConn: 'New connections /s',
    refused: 'Refused connections /s by reason', alarms: 'Alarm rules', cmsNA: 'CloudMonitor not available on this eplink.',
    last15: 'kept for 15 minutes, sampled every', noData: 'No traffic data yet.', flows: 'flows', health: 'health',
    cli: 'CLI', confirm: 'Are you sure?', noSampling: 'This eplink has no data plane metrics to chart.',
    topoHelp: 'Consumer VPCs → endpoint ENIs → zones → CLBs → backends. Edges: active flows and Mbit/s (in/out); dashed: a replaced ENI still carrying its flows.',
    serviceName: 'Service name', serviceDomain: 'Service domain', services_prov: 'Services I provide', createService: 'Create endpoint service', available: 'Services shared with me', delService: 'Delete service', rule: 'Rule', state: 'State', metric: 'Metric', enabled: 'Enabled', history: 'History', time: 'Time', level: 'Level', value: 'Value',
  },
  zh: {
    title: 'eplink 控制台', services: '终端节点服务', endpoints: '终端节点', monitor: '云监控', topology: '拓扑',
    signin: '登录', signout: '退出', akid: 'AccessKey ID', aksecret: 'AccessKey Secret', demoAccounts: '演示账号',
    signinAs: '登录为', lang: 'English (en)', id: 'ID', status: '状态', description: '描述', zones: '可用区',
    autoAccept: '自动接受连接', bandwidth: '带宽 (Mbps)', defaultBandwidth: '默认连接带宽峰值 (Mbps)',
    resources: '服务资源', connections: '终端节点连接', whitelist: '服务白名单', basic: '基本信息',
    resourceId: '资源ID', zone: '可用区', ip: 'IP', autoAlloc: '自动分配资源', related: '关联终端节点数',
    actions: '操作', remove: '删除', addResource: '添加服务资源', add: '添加', save: '保存',
    endpointId: '终端节点ID', owner: '所属账号', vpc: '专有网络', allow: '允许', reject: '拒绝', adjust: '调整带宽',
    showZones: '展开可用区', hideZones: '收起可用区', eni: '终端节点网卡', resource: '服务资源', replaced: '被替换的服务资源',
    allocate: '分配资源', auto: '自动分配', manual: '手动分配', connect: '连接', disconnect: '断开连接',
    replace: '替换资源', graceful: '平滑替换', force: '强制替换', cleanReplaced: '断开旧服务资源',
    userId: '账号ID', addUser: '添加白名单', none: '无', create: '创建终端节点', name: '名称',
    service: '终端节点服务', sgs: '安全组', sg: '安全组', vswitch: '交换机', addZone: '添加可用区',
    removeZone: '删除可用区', domain: '终端节点域名', zoneDomain: '可用区域名', del: '删除', attach: '加入', detach: '移出',
    connStatus: '连接状态', epStatus: '终端节点状态', allowAuto: '允许连接并自动分配服务资源', cancel: '取消', submit: '确定创建', back: '返回',
    groupBy: '图表维度', window: '时间范围', inOut: '入/出带宽 (Mbit/s) 与带宽上限', active: '活跃连接数', newConn: '新建连接数 /秒',
    refused: '被拒绝连接数 /秒 (按原因)', alarms: '报警规则', cmsNA: '此 eplink 未提供云监控。',
    last15: '保留最近15分钟，采样间隔', noData: '暂无流量数据。', flows: '连接', health: '健康',
    cli: '命令行', confirm: '确定吗？', noSampling: '此 eplink 没有可绘制的数据面指标。',
    topoHelp: '消费者VPC → 终端节点网卡 → 可用区 → CLB → 后端服务器。连线：活跃连接与 Mbit/s（入/出）；虚线：被替换的网卡仍承载原有连接。',
    serviceName: '服务名称', serviceDomain: '服务域名', services_prov: '我提供的服务', createService: '创建终端节点服务', available: '可连接的服务（白名单）', delService: '删除服务', rule: '规则', state: '状态', metric: '指标', enabled: '启用', history: '报警历史', time: '时间', level: '级别', value: '值',
  },
};
let lang = localStorage.getItem('eplink.lang') || 'zh';
const t = (k) => (T[lang] && T[lang][k]) || T.en[k] || k;
let sess = null;
let timers = [];
const expanded = new Set();

// h builds an element; strings and numbers become text nodes, never HTML.
function h(tag, attrs, ...kids) {
  const el = tag.startsWith('svg:') ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}
const $main = () => document.getElementById('main');
function show(...kids) { const m = $main(); m.replaceChildren(...kids.flat()); }
// State names as the Chinese console shows them; the API's word is the
// title (and what English shows).
const zhState = { Active: '可用', Connected: '已连接', Disconnected: '已断开', Connecting: '连接中', Disconnecting: '断开中',
  Migrating: '迁移中', Migrated: '已迁移', Wait: '等待连接', Creating: '创建中', Deleting: '删除中', Pending: '变更中',
  Inactive: '不可用', Normal: '正常', Failed: '失败' };
function st(s) {
  const label = lang === 'zh' && zhState[s] ? zhState[s] : s;
  const cls = /^(Active|Connected|Normal|true|OK)$/.test(s) ? 'ok' : /(ing|Pending|Migrated|Wait)$/.test(s) ? 'warn' : /^(Disconnected|Failed|Rejected|ALARM)$/.test(s) ? 'bad' : '';
  return h('span', { class: 'st ' + cls, title: s }, s === undefined || s === '' ? '—' : String(label));
}
const transitional = (s) => typeof s === 'string' && /(ing|Pending)$/.test(s);

// cliLine renders the eplink api command for an action.
function quote(v) { v = String(v); return /^[A-Za-z0-9_.,:\/@=+-]+$/.test(v) ? v : "'" + v.replace(/'/g, "'\\''") + "'"; }
function cliLine(action, params, version) {
  const parts = ['eplink', 'api'];
  if (version === '2019-01-01') parts.push('cms');
  parts.push(action);
  if (sess && sess.Name) parts.push('--profile', sess.Name);
  for (const [k, v] of Object.entries(params || {})) if (v !== '' && v !== undefined) parts.push('--' + k, quote(v));
  return parts.join(' ');
}
function logCLI(line, bad) {
  const box = document.getElementById('cli');
  box.append(h('div', { class: bad ? 'bad' : '' }, '$ ' + line + (bad ? '   # ' + bad : '')));
  while (box.children.length > 30) box.firstChild.remove();
  box.scrollTop = box.scrollHeight;
}

async function call(action, params, opts) {
  opts = opts || {};
  const body = new URLSearchParams();
  body.set('Action', action);
  if (opts.version) body.set('Version', opts.version);
  for (const [k, v] of Object.entries(params || {})) if (v !== '' && v !== undefined) body.set(k, v);
  const r = await fetch('/console/api/call', { method: 'POST', body, credentials: 'same-origin', headers: { 'X-CSRF-Token': sess ? sess.CsrfToken : '' } });
  let data = {};
  try { data = await r.json(); } catch (e) { data = { Code: 'BadResponse', Message: String(e) }; }
  if (r.status === 401 && sess) { sess = null; route(); throw new Error(data.Message); }
  const mutation = !/^(List|Get|Describe|Check)/.test(action);
  if (!opts.quiet && (mutation || !r.ok)) logCLI(cliLine(action, params, opts.version), r.ok ? '' : (data.Code + ': ' + data.Message));
  if (!r.ok) { const e = new Error(data.Code + ': ' + data.Message); e.code = data.Code; e.status = r.status; throw e; }
  return data;
}
async function getJSON(path) {
  const r = await fetch(path, { credentials: 'same-origin' });
  const d = await r.json();
  if (r.status === 401 && sess) { sess = null; route(); throw new Error(d.Message); }
  if (!r.ok) throw new Error(d.Code + ': ' + d.Message);
  return d;
}
async function listAll(action, params, field) {
  let out = [], next = '';
  for (let i = 0; i < 50; i++) {
    const d = await call(action, Object.assign({}, params, { MaxResults: 50, NextToken: next }));
    out = out.concat(d[field] || []);
    if (!d.NextToken) break;
    next = d.NextToken;
  }
  return out;
}

// act runs a mutation from a button, shows its error, and re-renders.
function act(btn, fn, again) {
  return async (ev) => {
    // Destructive buttons (data-confirm) ask first, as the cloud's dialogs do.
    const el = btn || (ev && ev.currentTarget);
    if (el && el.dataset && el.dataset.confirm && !confirm(t('confirm'))) return;
    const errBox = document.getElementById('err');
    if (errBox) errBox.textContent = '';
    try { await fn(); settleUntil = Date.now() + 5000; } catch (e) { if (errBox) errBox.textContent = e.message; }
    if (again) again();
  };
}
function errBox() { return h('p', { id: 'err', class: 'err', role: 'alert' }); }
// poll re-renders the page later; not while the user is typing in it.
function poll(fn, ms) {
  timers.push(setTimeout(() => {
    const a = document.activeElement;
    if (a && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName) && a.type !== 'checkbox') return poll(fn, ms);
    fn();
  }, ms || 1000));
}
// After an action the page keeps refreshing for a while: some changes show
// only once the control plane has finished them.
let settleUntil = 0;
const settling = () => Date.now() < settleUntil;
function stopTimers() { timers.forEach(clearTimeout); timers = []; }

// ---------- header, sign-in ----------
function header() {
  const cur = location.hash.split('/')[1] || 'services';
  const link = (k) => h('a', { href: '#/' + k, 'aria-current': cur === k ? 'page' : null }, t(k));
  const top = document.getElementById('top');
  top.replaceChildren(...[
    h('span', { class: 'brand' }, t('title')),
    h('nav', { 'aria-label': 'main' }, sess ? ['services', 'endpoints', 'monitor', 'topology'].map(link) : []),
    h('button', { id: 'lang', onclick: () => { lang = lang === 'zh' ? 'en' : 'zh'; localStorage.setItem('eplink.lang', lang); document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en'; route(); } }, t('lang')),
    sess ? h('span', { class: 'muted', id: 'who' }, (sess.Name ? sess.Name + ' · ' : '') + (sess.Uid || sess.AccessKeyId)) : null,
    sess ? h('button', { id: 'signout', onclick: async () => { await fetch('/console/api/logout', { method: 'POST', headers: { 'X-CSRF-Token': sess.CsrfToken } }); sess = null; route(); } }, t('signout')) : null,
  ].filter(Boolean));
  document.title = t('title');
}

async function login(id, secret) {
  const body = new URLSearchParams({ AccessKeyId: id, AccessKeySecret: secret });
  const r = await fetch('/console/api/login', { method: 'POST', body, credentials: 'same-origin' });
  const d = await r.json();
  if (!r.ok) throw new Error(d.Code + ': ' + d.Message);
  sess = d;
  location.hash = '#/services';
  route();
}

async function viewLogin() {
  let accounts = [];
  try { accounts = (await getJSON('/console/api/accounts')).Accounts; } catch (e) { }
  const id = h('input', { id: 'akid', name: 'AccessKeyId', autocomplete: 'username', required: true });
  const secret = h('input', { id: 'aksecret', name: 'AccessKeySecret', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'card form', onsubmit: (ev) => { ev.preventDefault(); login(id.value, secret.value).catch((e) => { document.getElementById('err').textContent = e.message; }); } },
    h('h1', {}, t('signin')),
    h('p', {}, h('label', { for: 'akid' }, t('akid')), id),
    h('p', {}, h('label', { for: 'aksecret' }, t('aksecret')), secret),
    h('p', {}, h('button', { class: 'primary', type: 'submit', id: 'signin' }, t('signin'))), errBox());
  const demo = accounts.length ? h('div', { class: 'card' }, h('h2', {}, t('demoAccounts')),
    accounts.map((a) => h('p', {}, h('button', { id: 'as-' + a.Name, onclick: () => login(a.AccessKeyId, a.AccessKeySecret).catch((e) => { document.getElementById('err').textContent = e.message; }) }, t('signinAs') + ' ' + a.Name),
      ' ', h('span', { class: 'muted' }, a.Uid + ' · ' + a.AccessKeyId)))) : null;
  show(h('div', { class: 'login' }, form, demo));
}

// ---------- endpoint services ----------
async function viewServices() {
  const svcs = await listAll('ListVpcEndpointServices', {}, 'Services');
  const avail = (await listAll('ListVpcEndpointServicesByEndUser', {}, 'Services')).filter((a) => !svcs.some((s) => s.ServiceId === a.ServiceId));
  const table = (list, link) => h('table', {}, h('thead', {}, h('tr', {}, [t('id'), t('description'), t('status'), t('autoAccept'), t('defaultBandwidth'), t('zones')].map((x) => h('th', {}, x)))),
    h('tbody', {}, list.length ? list.map((s) => h('tr', {},
      h('td', {}, link ? h('a', { href: '#/services/' + s.ServiceId + '/resources' }, s.ServiceId) : s.ServiceId),
      h('td', { class: 'desc' }, s.ServiceDescription || ''), h('td', {}, st(s.ServiceStatus)), h('td', {}, String(s.AutoAcceptEnabled)),
      h('td', {}, s.ConnectBandwidth), h('td', {}, (s.Zones || []).join(', ')))) : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, t('none')))));
  // The create form: resources (CLB + zone), auto-accept, description.
  const res = h('input', { id: 'svc-new-res', placeholder: 'lb-clb1:cn-hangzhou-h, lb-clb2:cn-hangzhou-h', size: 50 });
  const aa = h('input', { id: 'svc-new-aa', type: 'checkbox' });
  const desc = h('input', { id: 'svc-new-desc', size: 30 });
  const create = act(null, async () => {
    const p = { ServiceResourceType: 'slb', AutoAcceptEnabled: aa.checked, ServiceDescription: desc.value };
    res.value.split(',').map((x) => x.trim()).filter(Boolean).forEach((x, i) => {
      const [rid, zone] = x.split(':');
      p['Resource.' + (i + 1) + '.ResourceType'] = 'slb'; p['Resource.' + (i + 1) + '.ResourceId'] = rid; p['Resource.' + (i + 1) + '.ZoneId'] = zone || '';
    });
    const r = await call('CreateVpcEndpointService', p);
    location.hash = '#/services/' + r.ServiceId + '/resources';
  });
  show(h('h1', {}, t('services')), errBox(), table(svcs, true),
    h('details', { class: 'card' }, h('summary', { id: 'svc-new' }, t('createService')),
      h('div', { class: 'row' }, h('label', { for: 'svc-new-res' }, t('resources') + ' (CLB:zone)'), res),
      h('div', { class: 'row' }, h('label', { for: 'svc-new-desc' }, t('description')), desc, h('label', { for: 'svc-new-aa' }, t('autoAccept')), aa,
        h('button', { class: 'primary', id: 'svc-new-submit', onclick: create }, t('createService')))),
    h('h2', {}, t('available')), table(avail, false));
  if (settling() || svcs.some((s) => transitional(s.ServiceStatus))) poll(route);
}

async function viewService(id, tab) {
  const s = await call('GetVpcEndpointServiceAttribute', { ServiceId: id });
  const again = () => route();
  const desc = h('input', { id: 'svc-desc', value: s.ServiceDescription || '', size: 40 });
  const bw = h('input', { id: 'svc-bw', type: 'number', value: s.ConnectBandwidth, min: s.MinBandwidth, max: s.MaxBandwidth });
  const aa = h('input', { id: 'svc-autoaccept', type: 'checkbox', checked: s.AutoAcceptEnabled });
  const basic = h('div', { class: 'card' }, h('h2', {}, t('basic')),
    h('dl', { class: 'kv' }, h('dt', {}, t('id')), h('dd', {}, s.ServiceId), h('dt', {}, t('serviceName')), h('dd', {}, s.ServiceName),
      h('dt', {}, t('serviceDomain')), h('dd', {}, s.ServiceDomain), h('dt', {}, t('status')), h('dd', {}, st(s.ServiceStatus)),
      h('dt', {}, t('description')), h('dd', { id: 'svc-desc-text' }, s.ServiceDescription || '')),
    h('div', { class: 'row' }, h('label', { for: 'svc-desc' }, t('description')), desc,
      h('label', { for: 'svc-bw' }, t('defaultBandwidth')), bw, h('label', { for: 'svc-autoaccept' }, t('autoAccept')), aa,
      h('button', { id: 'svc-save', onclick: act(null, () => call('UpdateVpcEndpointServiceAttribute', { ServiceId: id, ServiceDescription: desc.value, ConnectBandwidth: bw.value, AutoAcceptEnabled: aa.checked }), again) }, t('save')),
      h('button', { id: 'svc-delete', class: 'danger', 'data-confirm': 1, onclick: act(null, async () => { await call('DeleteVpcEndpointService', { ServiceId: id }); location.hash = '#/services'; }) }, t('delService'))));
  const tabs = ['resources', 'connections', 'whitelist'];
  const tablist = h('div', { role: 'tablist', 'aria-label': t('services') }, tabs.map((k) => h('button', {
    role: 'tab', id: 'tab-' + k, 'aria-selected': String(k === tab), 'aria-controls': 'panel', tabindex: k === tab ? 0 : -1,
    onclick: () => { location.hash = '#/services/' + id + '/' + k; },
    onkeydown: (ev) => { const i = tabs.indexOf(k); const j = ev.key === 'ArrowRight' ? (i + 1) % 3 : ev.key === 'ArrowLeft' ? (i + 2) % 3 : -1; if (j >= 0) { location.hash = '#/services/' + id + '/' + tabs[j]; } },
  }, t(k))));
  const panel = h('div', { role: 'tabpanel', id: 'panel', 'aria-labelledby': 'tab-' + tab });
  const resources = await listAll('ListVpcEndpointServiceResources', { ServiceId: id }, 'Resources');
  let busy = transitional(s.ServiceStatus);
  if (tab === 'resources') {
    const rid = h('input', { id: 'res-id', placeholder: 'lb-…' });
    const rz = h('input', { id: 'res-zone', placeholder: 'cn-hangzhou-h' });
    panel.append(h('table', {}, h('thead', {}, h('tr', {}, [t('resourceId'), t('zone'), t('ip'), t('autoAlloc'), t('related'), t('actions')].map((x) => h('th', {}, x)))),
      h('tbody', {}, resources.map((r) => {
        const sw = h('input', { type: 'checkbox', role: 'switch', id: 'auto-' + r.ResourceId, checked: r.AutoAllocatedEnabled, 'aria-label': t('autoAlloc') + ' ' + r.ResourceId });
        sw.addEventListener('change', act(null, () => call('UpdateVpcEndpointServiceResourceAttribute', { ServiceId: id, ResourceId: r.ResourceId, ZoneId: r.ZoneId, AutoAllocatedEnabled: sw.checked }), again));
        return h('tr', {}, h('td', {}, r.ResourceId), h('td', {}, r.ZoneId), h('td', {}, r.Ip || ''), h('td', {}, sw),
          h('td', {}, String(r.RelatedEndpointCount) + (r.RelatedDeprecatedEndpointCount ? ' (+' + r.RelatedDeprecatedEndpointCount + ' replaced)' : '')),
          h('td', {}, h('button', { class: 'danger', id: 'detach-' + r.ResourceId, 'data-confirm': 1, onclick: act(null, () => call('DetachResourceFromVpcEndpointService', { ServiceId: id, ResourceId: r.ResourceId, ResourceType: 'slb' }), again) }, t('remove'))));
      }))),
      h('div', { class: 'row' }, h('label', { for: 'res-id' }, t('resourceId')), rid, h('label', { for: 'res-zone' }, t('zone')), rz,
        h('button', { id: 'res-add', onclick: act(null, () => call('AttachResourceToVpcEndpointService', { ServiceId: id, ResourceId: rid.value, ResourceType: 'slb', ZoneId: rz.value }), again) }, t('addResource'))));
  } else if (tab === 'connections') {
    const conns = await listAll('ListVpcEndpointConnections', { ServiceId: id }, 'Connections');
    const tb = h('tbody', {});
    for (const c of conns) {
      busy = busy || transitional(c.ConnectionStatus) || (c.Zones || []).some((z) => transitional(z.ZoneStatus));
      const bwIn = h('input', { type: 'number', id: 'bw-' + c.EndpointId, value: c.Bandwidth, min: s.MinBandwidth, max: s.MaxBandwidth, 'aria-label': t('bandwidth') + ' ' + c.EndpointId });
      const open = expanded.has(c.EndpointId);
      // The guide's allow dialog: "允许连接并自动分配服务资源".
      const autoBox = h('input', { type: 'checkbox', id: 'allow-auto-' + c.EndpointId });
      tb.append(h('tr', {},
        h('td', {}, h('button', { id: 'plus-' + c.EndpointId, 'aria-expanded': String(open), 'aria-label': (open ? t('hideZones') : t('showZones')) + ' ' + c.EndpointId, onclick: () => { open ? expanded.delete(c.EndpointId) : expanded.add(c.EndpointId); route(); } }, open ? '−' : '+'), ' ', c.EndpointId),
        h('td', {}, String(c.EndpointOwnerId)), h('td', {}, c.EndpointVpcId), h('td', {}, st(c.ConnectionStatus)),
        h('td', {}, bwIn, h('button', { id: 'bwset-' + c.EndpointId, onclick: act(null, () => call('UpdateVpcEndpointConnectionAttribute', { ServiceId: id, EndpointId: c.EndpointId, Bandwidth: bwIn.value }), again) }, t('adjust'))),
        h('td', {},
          // Allow while the connection waits for it, reject while it is up.
          c.ConnectionStatus !== 'Disconnected' ? null : h('label', {}, autoBox, ' ', t('allowAuto')),
          c.ConnectionStatus !== 'Disconnected' ? null : h('button', { id: 'allow-' + c.EndpointId, class: 'primary', onclick: act(null, () => call('EnableVpcEndpointConnection', { ServiceId: id, EndpointId: c.EndpointId, AutoAllocatedEnabled: autoBox.checked ? true : '' }), again) }, t('allow')),
          c.ConnectionStatus === 'Disconnected' ? null : h('button', { id: 'reject-' + c.EndpointId, class: 'danger', 'data-confirm': 1, onclick: act(null, () => call('DisableVpcEndpointConnection', { ServiceId: id, EndpointId: c.EndpointId }), again) }, t('reject')))));
      if (open) tb.append(h('tr', {}, h('td', { colspan: 6, class: 'sub' }, zoneTable(id, c, resources, again))));
    }
    panel.append(h('table', {}, h('thead', {}, h('tr', {}, [t('endpointId'), t('owner'), t('vpc'), t('status'), t('bandwidth'), t('actions')].map((x) => h('th', {}, x)))), tb));
    if (!conns.length) panel.append(h('p', { class: 'muted' }, t('none')));
  } else {
    const users = await listAll('ListVpcEndpointServiceUsers', { ServiceId: id }, 'Users');
    const uid = h('input', { id: 'user-id', placeholder: '1000000000000002' });
    panel.append(h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, t('userId')), h('th', {}, t('actions')))),
      h('tbody', {}, users.map((u) => h('tr', {}, h('td', {}, String(u.UserId)), h('td', {}, h('button', { class: 'danger', 'data-confirm': 1, onclick: act(null, () => call('RemoveUserFromVpcEndpointService', { ServiceId: id, UserId: u.UserId }), again) }, t('remove'))))))),
      h('div', { class: 'row' }, h('label', { for: 'user-id' }, t('userId')), uid, h('button', { id: 'user-add', onclick: act(null, async () => {
        // The guide's box takes several accounts, separated by commas: one
        // AddUserToVpcEndpointService each, in order, stopping at the first refusal.
        for (const u of uid.value.split(/[,，\s]+/).filter(Boolean)) await call('AddUserToVpcEndpointService', { ServiceId: id, UserId: u });
      }, again) }, t('addUser'))));
  }
  show(h('p', {}, h('a', { href: '#/services' }, '← ' + t('services'))), h('h1', {}, s.ServiceId), errBox(), basic, tablist, panel);
  if (busy || settling()) poll(route);
}

// zoneTable is the "+" of a connection: its zones and what the provider
// can do with each.
function zoneTable(svc, c, resources, again) {
  const rows = (c.Zones || []).map((z) => {
    const key = c.EndpointId + '-' + z.ZoneId;
    const inZone = resources.filter((r) => r.ZoneId === z.ZoneId);
    const pick = h('select', { id: 'res-' + key, 'aria-label': t('resource') + ' ' + z.ZoneId }, inZone.map((r) => h('option', { value: r.ResourceId, selected: r.ResourceId !== z.ResourceId }, r.ResourceId)));
    const mode = h('select', { id: 'mode-' + key, 'aria-label': t('replace') }, h('option', { value: 'Graceful' }, t('graceful')), h('option', { value: 'Force' }, t('force')));
    const base = { ServiceId: svc, EndpointId: c.EndpointId, ZoneId: z.ZoneId };
    return h('tr', {}, h('td', {}, z.ZoneId), h('td', {}, st(z.ZoneStatus), z.StatusInfo ? h('div', { class: 'muted' }, z.StatusInfo) : null), h('td', {}, (z.EniId || '') + ' ' + (z.EniIp || '')),
      h('td', {}, z.ResourceId || '—'), h('td', {}, z.ReplacedResourceId ? z.ReplacedResourceId + ' (' + (z.ReplacedEniId || '') + ')' : '—'),
      h('td', {},
        h('div', { class: 'row' }, pick,
          h('button', { id: 'alloc-auto-' + key, onclick: act(null, () => call('UpdateVpcEndpointZoneConnectionResourceAttribute', Object.assign({}, base, { ResourceAllocateMode: 'Auto' })), again) }, t('allocate') + ': ' + t('auto')),
          h('button', { id: 'alloc-manual-' + key, onclick: act(null, () => call('UpdateVpcEndpointZoneConnectionResourceAttribute', Object.assign({}, base, { ResourceAllocateMode: 'Manual', ResourceId: pick.value, ResourceType: 'slb' })), again) }, t('allocate') + ': ' + t('manual'))),
        h('div', { class: 'row' }, mode,
          h('button', { id: 'replace-' + key, onclick: act(null, () => call('UpdateVpcEndpointZoneConnectionResourceAttribute', Object.assign({}, base, { ResourceReplaceMode: mode.value, ResourceId: pick.value, ResourceType: 'slb' })), again) }, t('replace'))),
        h('div', { class: 'row' },
          h('button', { id: 'connect-' + key, onclick: act(null, () => call('EnableVpcEndpointZoneConnection', base), again) }, t('connect')),
          h('button', { id: 'disconnect-' + key, class: 'danger', 'data-confirm': 1, onclick: act(null, () => call('DisableVpcEndpointZoneConnection', base), again) }, t('disconnect')),
          z.ReplacedResourceId ? h('button', { id: 'clean-' + key, onclick: act(null, () => call('DisableVpcEndpointZoneConnection', Object.assign({}, base, { ReplacedResource: true })), again) }, t('cleanReplaced')) : null)));
  });
  return h('table', {}, h('thead', {}, h('tr', {}, [t('zone'), t('status'), t('eni'), t('resource'), t('replaced'), t('actions')].map((x) => h('th', {}, x)))), h('tbody', {}, rows));
}

// ---------- endpoints ----------
async function viewEndpoints() {
  const eps = await listAll('ListVpcEndpoints', {}, 'Endpoints');
  show(h('h1', {}, t('endpoints')), errBox(), h('p', {}, h('a', { href: '#/endpoints/new', id: 'ep-new', role: 'button' }, t('create'))),
    h('table', {}, h('thead', {}, h('tr', {}, [t('id'), t('name'), t('service'), t('vpc'), t('epStatus'), t('connStatus'), t('bandwidth')].map((x) => h('th', {}, x)))),
      h('tbody', {}, eps.length ? eps.map((e) => h('tr', {}, h('td', {}, h('a', { href: '#/endpoints/' + e.EndpointId }, e.EndpointId)), h('td', {}, e.EndpointName || ''),
        h('td', {}, e.ServiceId), h('td', {}, e.VpcId), h('td', {}, st(e.EndpointStatus)), h('td', {}, st(e.ConnectionStatus)), h('td', {}, e.Bandwidth))) : h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('none'))))));
  if (settling() || eps.some((e) => transitional(e.EndpointStatus) || transitional(e.ConnectionStatus))) poll(route);
}

async function viewEndpointNew() {
  const svcs = await listAll('ListVpcEndpointServicesByEndUser', {}, 'Services');
  const svc = h('select', { id: 'new-service', name: 'ServiceId' }, svcs.map((s) => h('option', { value: s.ServiceId }, s.ServiceId + (s.ServiceDescription ? ' — ' + s.ServiceDescription : ''))));
  const name = h('input', { id: 'new-name', name: 'EndpointName' });
  const vpc = h('input', { id: 'new-vpc', name: 'VpcId', placeholder: 'vpc-…', required: true });
  const sg = h('input', { id: 'new-sg', name: 'SecurityGroupId', placeholder: 'sg-… (sg-a,sg-b)', required: true });
  const zoneBox = h('div', {});
  const addPair = (zone, vsw) => {
    const i = zoneBox.children.length + 1;
    zoneBox.append(h('p', { class: 'pair' }, h('label', { for: 'new-zone-' + i }, t('zone') + ' ' + i), h('input', { id: 'new-zone-' + i, class: 'zone', value: zone || '', placeholder: 'cn-hangzhou-h' }),
      ' ', h('label', { for: 'new-vsw-' + i }, t('vswitch') + ' ' + i), h('input', { id: 'new-vsw-' + i, class: 'vsw', value: vsw || '', placeholder: 'vsw-…' })));
  };
  const fillZones = async () => {
    zoneBox.replaceChildren();
    try { const a = await call('GetVpcEndpointServiceAttribute', { ServiceId: svc.value }); (a.Zones || []).forEach((z) => addPair(z, '')); } catch (e) { addPair('', ''); }
    if (!zoneBox.children.length) addPair('', '');
  };
  svc.addEventListener('change', fillZones);
  const submit = async (ev) => {
    ev.preventDefault();
    const p = { ServiceId: svc.value, VpcId: vpc.value, EndpointName: name.value };
    sg.value.split(',').map((x) => x.trim()).filter(Boolean).forEach((x, i) => { p['SecurityGroupId.' + (i + 1)] = x; });
    let n = 0;
    for (const pair of zoneBox.querySelectorAll('.pair')) {
      const z = pair.querySelector('.zone').value.trim(), v = pair.querySelector('.vsw').value.trim();
      if (!z && !v) continue;
      n++; p['Zone.' + n + '.ZoneId'] = z; p['Zone.' + n + '.VSwitchId'] = v;
    }
    try { const r = await call('CreateVpcEndpoint', p); location.hash = '#/endpoints/' + r.EndpointId; } catch (e) { document.getElementById('err').textContent = e.message; }
  };
  show(h('p', {}, h('a', { href: '#/endpoints' }, '← ' + t('endpoints'))), h('h1', {}, t('create')),
    h('form', { class: 'card form', onsubmit: submit },
      h('p', {}, h('label', { for: 'new-name' }, t('name')), name),
      h('p', {}, h('label', { for: 'new-service' }, t('service')), svc),
      h('p', {}, h('label', { for: 'new-vpc' }, t('vpc')), vpc),
      h('p', {}, h('label', { for: 'new-sg' }, t('sgs')), sg),
      h('h2', {}, t('zones')), zoneBox,
      h('p', {}, h('button', { type: 'button', onclick: () => addPair('', '') }, t('addZone'))),
      h('p', {}, h('button', { class: 'primary', type: 'submit', id: 'new-submit' }, t('submit'))), errBox()));
  await fillZones();
}

async function viewEndpoint(id) {
  const e = await call('GetVpcEndpointAttribute', { EndpointId: id });
  const zones = await listAll('ListVpcEndpointZones', { EndpointId: id }, 'Zones');
  const sgs = await listAll('ListVpcEndpointSecurityGroups', { EndpointId: id }, 'SecurityGroups');
  const again = () => route();
  const nz = h('input', { id: 'add-zone', placeholder: 'cn-hangzhou-i' }), nv = h('input', { id: 'add-vsw', placeholder: 'vsw-…' });
  const nsg = h('input', { id: 'add-sg', placeholder: 'sg-…' });
  show(h('p', {}, h('a', { href: '#/endpoints' }, '← ' + t('endpoints'))), h('h1', {}, id), errBox(),
    h('div', { class: 'card' }, h('dl', { class: 'kv' },
      [['name', e.EndpointName], ['description', e.EndpointDescription], ['service', e.ServiceId + ' (' + e.ServiceName + ')'], ['vpc', e.VpcId],
        ['domain', e.EndpointDomain], ['bandwidth', e.Bandwidth]].map(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v === undefined ? '' : v)]),
      h('dt', {}, t('epStatus')), h('dd', {}, st(e.EndpointStatus)), h('dt', {}, t('connStatus')), h('dd', {}, st(e.ConnectionStatus))),
      h('p', {}, h('button', { class: 'danger', id: 'ep-delete', 'data-confirm': 1, onclick: act(null, async () => { await call('DeleteVpcEndpoint', { EndpointId: id }); location.hash = '#/endpoints'; }) }, t('del')))),
    h('h2', {}, t('zones')),
    h('table', {}, h('thead', {}, h('tr', {}, [t('zone'), t('status'), t('eni'), t('ip'), t('vswitch'), t('zoneDomain'), t('resource'), t('actions')].map((x) => h('th', {}, x)))),
      h('tbody', {}, zones.map((z) => h('tr', {}, h('td', {}, z.ZoneId), h('td', {}, st(z.ZoneStatus), z.StatusInfo ? h('div', { class: 'muted' }, z.StatusInfo) : null), h('td', {}, z.EniId),
        h('td', { class: 'eni-ip' }, z.EniIp), h('td', {}, z.VSwitchId), h('td', {}, z.ZoneDomain), h('td', {}, z.ResourceId || '—'),
        h('td', {}, h('button', { class: 'danger', 'data-confirm': 1, onclick: act(null, () => call('RemoveZoneFromVpcEndpoint', { EndpointId: id, ZoneId: z.ZoneId }), again) }, t('removeZone'))))))),
    h('div', { class: 'row' }, h('label', { for: 'add-zone' }, t('zone')), nz, h('label', { for: 'add-vsw' }, t('vswitch')), nv,
      h('button', { onclick: act(null, () => call('AddZoneToVpcEndpoint', { EndpointId: id, ZoneId: nz.value, VSwitchId: nv.value }), again) }, t('addZone'))),
    h('h2', {}, t('sgs')),
    h('table', {}, h('tbody', {}, sgs.map((g) => h('tr', {}, h('td', {}, g.SecurityGroupId),
      h('td', {}, h('button', { class: 'danger', onclick: act(null, () => call('DetachSecurityGroupFromVpcEndpoint', { EndpointId: id, SecurityGroupId: g.SecurityGroupId }), again) }, t('detach'))))))),
    h('div', { class: 'row' }, h('label', { for: 'add-sg' }, t('sg')), nsg,
      h('button', { onclick: act(null, () => call('AttachSecurityGroupToVpcEndpoint', { EndpointId: id, SecurityGroupId: nsg.value }), again) }, t('attach'))));
  if (settling() || transitional(e.EndpointStatus) || transitional(e.ConnectionStatus) || zones.some((z) => transitional(z.ZoneStatus))) poll(route);
}

// ---------- monitoring ----------
function lineChart(title, lines, times, cap, now) {
  const W = 420, H = 150, L = 40, B = 18;
  let max = cap || 0;
  for (const ln of lines) for (const v of ln.values) if (v !== null && v > max) max = v;
  if (max <= 0) max = 1;
  // The x axis is the window chosen (15 minutes at most, what is kept),
  // however much has been sampled.
  const t1 = now || times[times.length - 1] || 1, t0 = t1 - windowMin * 60 * 1000, span = t1 - t0;
  const x = (tm) => L + (W - L - 4) * (tm - t0) / span, y = (v) => 4 + (H - B - 4) * (1 - v / max);
  const colors = ['#0064c8', '#ff6a00', '#1a9b4b', '#a23bb3', '#d4380d', '#13a8a8'];
  const svg = h('svg:svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title },
    h('svg:line', { x1: L, y1: H - B, x2: W, y2: H - B, stroke: '#ccc' }),
    h('svg:text', { x: 2, y: 12, fill: '#646a73' }, fmt(max)), h('svg:text', { x: 2, y: H - B, fill: '#646a73' }, '0'),
    h('svg:text', { x: L, y: H - 4, fill: '#646a73' }, '-' + windowMin + ' min'), h('svg:text', { x: W - 30, y: H - 4, fill: '#646a73' }, 'now'));
  if (cap) svg.append(h('svg:line', { x1: L, y1: y(cap), x2: W, y2: y(cap), stroke: '#d4380d', 'stroke-dasharray': '4 3' }));
  lines.forEach((ln, i) => {
    let d = '';
    ln.values.forEach((v, j) => { if (v === null) return; d += (d && ln.values[j - 1] !== null ? 'L' : 'M') + x(times[j]).toFixed(1) + ' ' + y(v).toFixed(1); });
    svg.append(h('svg:path', { d, fill: 'none', stroke: colors[i % colors.length], 'stroke-width': 1.5 }));
  });
  return h('div', { class: 'chart' }, h('h3', {}, title), svg,
    h('div', { class: 'legend' }, lines.map((ln, i) => { const s = h('span', {}, '■ ' + ln.name + ' ' + fmt(ln.values.filter((v) => v !== null).slice(-1)[0] || 0)); s.style.color = colors[i % colors.length]; return s; }),
      cap ? h('span', {}, '--- cap ' + cap) : null));
}
function fmt(v) { return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3); }
function sumBy(series, metric, key, filter) {
  const out = new Map();
  for (const s of series) {
    if (s.Metric !== metric || (filter && !filter(s.Labels))) continue;
    const k = key(s.Labels);
    let acc = out.get(k);
    if (!acc) { acc = s.Values.map(() => null); out.set(k, acc); }
    s.Values.forEach((v, i) => { if (v !== null) acc[i] = (acc[i] || 0) + v; });
  }
  return out;
}
let groupBy = 'endpoint_id', windowMin = 15;
async function viewMonitor() {
  const d = await getJSON('/console/api/metrics');
  const sel = h('select', { id: 'group-by', onchange: (ev) => { groupBy = ev.target.value; route(); } },
    [['endpoint_id', t('endpoints')], ['zone_id', t('zone')], ['service_id', t('service')], ['resource_id', t('resource')]].map(([v, l]) => h('option', { value: v, selected: v === groupBy }, l)));
  const groups = new Set(d.Series.map((s) => s.Labels[groupBy]).filter(Boolean));
  const charts = [];
  for (const g of [...groups].sort()) {
    const f = (l) => l[groupBy] === g;
    const mbps = (m) => [...m.values()][0] ? [...m.values()][0].map((v) => v === null ? null : v * 8 / 1e6) : [];
    const up = sumBy(d.Series, 'flow_bytes_total', () => 'x', (l) => f(l) && l.direction === 'client_to_backend');
    const down = sumBy(d.Series, 'flow_bytes_total', () => 'x', (l) => f(l) && l.direction === 'backend_to_client');
    const cap = groupBy === 'endpoint_id' ? d.Caps[g] : 0;
    charts.push(h('h2', {}, g));
    const row = h('div', { class: 'charts' });
    row.append(lineChart(t('inOut'), [{ name: 'in', values: mbps(up) }, { name: 'out', values: mbps(down) }], d.Times, cap, +d.Now));
    const act = sumBy(d.Series, 'flows_active', () => 'active', f);
    row.append(lineChart(t('active'), [...act].map(([k, v]) => ({ name: k, values: v })), d.Times, 0, +d.Now));
    const nw = sumBy(d.Series, 'flows_total', () => 'new', f);
    row.append(lineChart(t('newConn'), [...nw].map(([k, v]) => ({ name: k, values: v })), d.Times, 0, +d.Now));
    const rf = sumBy(d.Series, 'flows_refused_total', (l) => l.reason, f);
    row.append(lineChart(t('refused'), [...rf].map(([k, v]) => ({ name: k, values: v })), d.Times, 0, +d.Now));
    charts.push(row);
  }
  const alarms = h('div', { class: 'card', id: 'alarms' }, h('h2', {}, t('alarms')));
  try {
    const r = await call('DescribeMetricRuleList', { Namespace: 'acs_privatelink' }, { version: '2019-01-01', quiet: true });
    const rules = (r.Alarms && (r.Alarms.Alarm || r.Alarms)) || [];
    alarms.append(rules.length ? h('table', {}, h('thead', {}, h('tr', {}, [t('rule'), t('metric'), t('state'), t('enabled')].map((x) => h('th', {}, x)))),
      h('tbody', {}, rules.map((a) => h('tr', {}, h('td', {}, a.RuleName || a.RuleId), h('td', {}, a.MetricName), h('td', {}, st(a.AlertState)), h('td', {}, String(a.EnableState)))))) : h('p', { class: 'muted' }, t('none')));
    // The alarm history: every transition of the account's rules, newest first.
    const hist = await call('DescribeAlertHistoryList', { PageSize: '20' }, { version: '2019-01-01', quiet: true });
    const rows = (hist.AlarmHistoryList && hist.AlarmHistoryList.AlarmHistory) || [];
    alarms.append(h('h3', {}, t('history')), rows.length ? h('table', { id: 'alarm-history' },
      h('thead', {}, h('tr', {}, [t('time'), t('rule'), t('state'), t('level'), t('value')].map((x) => h('th', {}, x)))),
      h('tbody', {}, rows.map((a) => h('tr', {}, h('td', {}, new Date(a.AlertTime).toLocaleTimeString()),
        h('td', {}, a.RuleName || a.RuleId), h('td', {}, st(a.State)), h('td', {}, a.Level), h('td', {}, String(a.Value)))))) :
      h('p', { class: 'muted' }, t('none')));
  } catch (e) {
    alarms.append(h('p', { class: 'muted', id: 'cms-na' }, /InvalidAction|InvalidVersion|NotFound/.test(e.code || e.message) ? t('cmsNA') : e.message));
  }
  const win = h('select', { id: 'window', onchange: (ev) => { windowMin = +ev.target.value; route(); } },
    [1, 5, 15].map((m) => h('option', { value: m, selected: m === windowMin }, m + ' min')));
  show(h('h1', {}, t('monitor')), h('div', { class: 'row' }, h('label', { for: 'group-by' }, t('groupBy')), sel,
    h('label', { for: 'window' }, t('window')), win,
    h('span', { class: 'muted' }, t('last15') + ' ' + d.IntervalSeconds + ' s')),
  d.Sampling ? (charts.length ? charts : h('p', { class: 'muted' }, t('noData'))) : h('p', { class: 'muted' }, t('noSampling')), alarms);
  poll(route, 5000);
}

// ---------- topology ----------
async function viewTopology() {
  const d = await getJSON('/console/api/topology');
  const cols = [[], [], [], [], []], pos = new Map(), edges = [];
  const node = (col, id, label, sub, cls) => { const k = col + '|' + id; if (!pos.has(k)) { pos.set(k, { col, i: cols[col].length, label, sub, cls }); cols[col].push(k); } return k; };
  const rows = [];
  for (const e of d.Endpoints) {
    const v = node(0, e.VpcId, e.VpcId, e.EndpointId, e.ConnectionStatus === 'Connected' ? 'ok' : 'warn');
    for (const z of e.Zones) {
      const zn = node(2, z.ZoneId, z.ZoneId, '', '');
      const cur = node(1, z.EniId || e.EndpointId + z.ZoneId, z.EniId || '—', (z.EniIp || '') + ' · ' + z.ZoneStatus, z.ZoneStatus === 'Connected' ? 'ok' : transitional(z.ZoneStatus) || z.ZoneStatus === 'Migrated' ? 'warn' : 'bad');
      edges.push({ a: v, b: cur }, { a: cur, b: zn });
      if (z.ResourceId) {
        const lb = node(3, z.ResourceId, z.ResourceId, '', '');
        const lbl = [z.Flows + ' ' + t('flows'), fmt(z.InMbps) + ' / ' + fmt(z.OutMbps) + ' Mbit/s'];
        edges.push({ a: zn, b: lb, label: lbl, via: z.EniId });
        rows.push([e.EndpointId, z.ZoneId, z.EniId, z.ResourceId, z.ZoneStatus, z.Flows, fmt(z.InMbps), fmt(z.OutMbps)]);
      }
      if (z.ReplacedResourceId) {
        const old = node(1, z.ReplacedEniId || 'old' + z.ZoneId, z.ReplacedEniId || '—', 'replaced', 'warn');
        const lb = node(3, z.ReplacedResourceId, z.ReplacedResourceId, '', '');
        edges.push({ a: v, b: old }, { a: old, b: lb, label: [z.ReplacedFlows + ' ' + t('flows'), fmt(z.ReplacedInMbps) + ' / ' + fmt(z.ReplacedOutMbps) + ' Mbit/s'], dashed: true });
        rows.push([e.EndpointId, z.ZoneId, z.ReplacedEniId + ' (replaced)', z.ReplacedResourceId, 'Migrated', z.ReplacedFlows, fmt(z.ReplacedInMbps), fmt(z.ReplacedOutMbps)]);
      }
    }
  }
  for (const r of d.Resources) {
    const lb = node(3, r.ResourceId, r.ResourceId, r.ZoneId || '', '');
    for (const b of r.Backends || []) { const bn = node(4, r.ResourceId + '/' + b.Name, b.Name, b.Up ? 'up' : 'down', b.Up ? 'ok' : 'bad'); edges.push({ a: lb, b: bn, health: b.Up }); }
  }
  // Columns: VPC, ENI, zone, CLB, backend; the zone → CLB gap is wider,
  // for the flows and Mbit/s on those edges.
  const CX = [0, 230, 460, 790, 1030], NW = 170, NH = 44, RH = 64, X0 = 10, Y0 = 36;
  const rowsN = Math.max(1, ...cols.map((c) => c.length));
  const W = X0 + CX[4] + NW + 10, H = Y0 + RH * rowsN + 10;
  const xy = (k) => { const p = pos.get(k); return { x: X0 + CX[p.col], y: Y0 + p.i * RH }; };
  const svg = h('svg:svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': t('topology') });
  ['VPC', t('eni'), t('zone'), 'CLB', 'ECS'].forEach((n, i) => svg.append(h('svg:text', { x: X0 + CX[i], y: 18, 'font-weight': 'bold' }, n)));
  for (const e of edges) {
    const a = xy(e.a), b = xy(e.b);
    const x1 = a.x + NW, y1 = a.y + NH / 2, x2 = b.x, y2 = b.y + NH / 2;
    const color = e.health === false ? '#d4380d' : e.dashed ? '#d48806' : '#8f959e';
    svg.append(h('svg:line', { x1, y1, x2, y2, stroke: color, 'stroke-width': e.label ? 2 : 1, 'stroke-dasharray': e.dashed ? '5 4' : null }));
    if (e.label) {
      const [l1, l2] = e.label;
      svg.append(h('svg:text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 5, 'text-anchor': 'middle', fill: '#1f2329' }, l1),
        h('svg:text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 + 14, 'text-anchor': 'middle', fill: '#646a73' }, l2));
    }
  }
  const fills = { ok: '#e8f7ee', warn: '#fff7e6', bad: '#fdeee8', '': '#f2f3f5' };
  for (const [k, p] of pos) {
    const { x, y } = xy(k);
    svg.append(h('svg:g', {}, h('svg:rect', { x, y, width: NW, height: NH, rx: 4, fill: fills[p.cls] || fills[''], stroke: '#c9cdd4' }),
      h('svg:text', { x: x + 6, y: y + 17 }, p.label), h('svg:text', { x: x + 6, y: y + 34, fill: '#646a73' }, p.sub)));
  }
  show(h('h1', {}, t('topology')), h('p', { class: 'muted' }, t('topoHelp')), (d.Errors || []).map((e) => h('p', { class: 'err' }, e)),
    h('div', { class: 'topo' }, svg),
    h('table', { id: 'topo-table' }, h('thead', {}, h('tr', {}, [t('endpointId'), t('zone'), t('eni'), 'CLB', t('status'), t('flows'), 'in Mbit/s', 'out Mbit/s'].map((x) => h('th', {}, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
  poll(route, 2000);
}

// ---------- routing ----------
// route renders the page the hash names. Calls are serialized: one that
// comes while a page is loading runs once that one is done.
let routing = 0, inflight = false, pending = false;
async function route() {
  if (inflight) { pending = true; return; }
  inflight = true;
  document.body.dataset.busy = '1';
  try { await routeOnce(); } finally { inflight = false; }
  if (pending) { pending = false; route(); } else document.body.dataset.busy = '0';
}
async function routeOnce() {
  stopTimers();
  const my = ++routing;
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  if (!sess) {
    try { sess = await getJSON('/console/api/session'); } catch (e) { sess = null; }
  }
  header();
  if (!sess) return viewLogin();
  const p = location.hash.replace(/^#\/?/, '').split('/');
  try {
    if (p[0] === 'endpoints' && p[1] === 'new') await viewEndpointNew();
    else if (p[0] === 'endpoints' && p[1]) await viewEndpoint(p[1]);
    else if (p[0] === 'endpoints') await viewEndpoints();
    else if (p[0] === 'monitor') await viewMonitor();
    else if (p[0] === 'topology') await viewTopology();
    else if (p[0] === 'services' && p[1]) await viewService(p[1], p[2] || 'resources');
    else await viewServices();
  } catch (e) {
    if (my === routing && sess) show(h('p', { class: 'err', role: 'alert' }, e.message));
  }
  document.body.dataset.ready = String(my);
}
window.addEventListener('hashchange', () => { route(); });
document.addEventListener('DOMContentLoaded', route);

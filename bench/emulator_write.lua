-- wrk script: acknowledged PutItem or UpdateItem requests against one emulator region.
-- OP=put|update|put_gsi (env), distinct keys over KEYS (env, default 100000), ~500-byte items;
-- put_gsi writes to table bench-gsi, whose GSI is keyed by `g` (1,000 distinct values);
-- put_stream to table bench-stream, whose stream is enabled (NEW_AND_OLD_IMAGES).
local op = os.getenv("OP") or "put"
local keys = tonumber(os.getenv("KEYS") or "100000")
local pad = string.rep("x", 460)
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
if op == "put" or op == "put_gsi" or op == "put_stream" then
  wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.PutItem"
else
  wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.UpdateItem"
end

request = function()
  counter = counter + 1
  local body
  if op == "put" then
    body = string.format(
      '{"TableName":"bench","Item":{"pk":{"S":"k%d"},"hh_vid":{"S":"w:%d"},"pad":{"S":"%s"}}}',
      counter % keys, counter, pad)
  elseif op == "put_gsi" then
    body = string.format(
      '{"TableName":"bench-gsi","Item":{"pk":{"S":"k%d"},"g":{"S":"g%d"},"hh_vid":{"S":"w:%d"},"pad":{"S":"%s"}}}',
      counter % keys, counter % 1000, counter, pad)
  elseif op == "put_stream" then
    body = string.format(
      '{"TableName":"bench-stream","Item":{"pk":{"S":"k%d"},"hh_vid":{"S":"w:%d"},"pad":{"S":"%s"}}}',
      counter % keys, counter, pad)
  else
    body = string.format(
      '{"TableName":"bench","Key":{"pk":{"S":"k%d"}},"UpdateExpression":"ADD n :one SET hh_vid = :v",' ..
      '"ExpressionAttributeValues":{":one":{"N":"1"},":v":{"S":"u:%d"}}}',
      counter % keys, counter)
  end
  return wrk.format(nil, nil, nil, body)
end
